// Package notification is the notification bus of the SDK: a generic,
// in-process publish/subscribe hub that replaces the NotificationCenter of
// python-application.
//
// Every subsystem (the engine, accounts, sessions, configuration) posts
// named notifications such as "SIPSessionDidStart" or
// "CFGSettingsObjectDidChange" on a [Center], and applications observe them.
// The package knows nothing about SIP, accounts or sessions: a notification is
// a name, an optional sender, a timestamp and an optional typed data value,
// and the Center only matches names and senders. It keeps no package-level
// mutable state, so any number of independent Centers can live side by side
// in one process (for example one per simulated user in a test).
//
// # Matching
//
// An observer registers for a name and a sender. [Any] (the empty string) as
// the name and nil as the sender are wildcards, so a notification posted with
// name N by sender S is delivered to the observers registered under
// (Any, nil), (Any, S), (N, nil) and (N, S). An observer registered under
// several of those keys still receives each notification exactly once.
// Observer identity is the interface value, so observers should be pointers.
// Senders are used as map keys and must therefore be comparable; a
// notification posted by a sender that is not comparable (a slice, say) can
// only reach the registrations that use the nil sender wildcard.
// Adding or removing a registration costs time in proportion to the
// observers registered under the same name and sender, whatever the number of
// other registrations, so that many objects can each observe their own
// sender, and Post normally looks the registrations up without taking a lock.
//
// # Delivery
//
// Delivery is asynchronous, unlike python-application, whose notification
// center calls observers synchronously from Post: here Post never runs user
// code, so the network and engine goroutines that post notifications can
// never be blocked or re-entered by an application handler. Each observer
// (each distinct identity, however many registrations it has) owns a FIFO
// queue and a goroutine that delivers it. The goroutine runs only while the
// queue holds notifications: the Post that finds it idle starts it, and it
// exits when it has emptied the queue, so an idle observer costs no goroutine
// and an application that stops leaves none behind, whatever observers remain
// registered. Notifications are handed to an observer in the order in which
// they were posted, one at a time, so an observer sees the notifications of
// any one sender in post order, and a slow handler delays only its own queue.
// Handlers may call any method of the Center, including Post, AddObserver,
// RemoveObserver, the cancel function returned by Observe, WaitFor and Close.
// A panic in a handler is recovered and logged, and delivery goes on with the
// next notification.
//
// When RemoveObserver, PurgeObserver or an Observe cancel function removes
// the last registration of an observer, the notifications still queued for
// it that have not started to be delivered are discarded; a handler call
// already under way runs to completion. While an observer keeps other
// registrations its queue is left untouched. An observer registered again
// while its former goroutine is still inside a handler gets a new queue,
// whose delivery starts only when that handler has returned, so calls to one
// observer never overlap.
//
// # Overflow
//
// Queues are bounded (see [WithQueueLimit], 65536 by default). A notification
// occupies a slot of its observer's queue from the moment Post accepts it
// until the observer's handler has returned from it. When an observer already
// holds the limit, further notifications for that observer, and only that
// observer, are dropped and counted; Post never blocks and other observers
// are not affected. The backlog already accepted is never discarded because
// of an overflow: it is delivered in order. The first drop of an overflow
// episode logs an error and posts [NotificationObserverDidFallBehind] (with
// [ObserverFellBehindData], sent by the Center); when the observer has
// delivered its whole queue again, the episode ends and the Center posts
// [NotificationObserverDidCatchUp] (with [ObserverCaughtUpData], giving the
// number of notifications lost since the fell-behind notification). For any
// one observer the two notifications always alternate, in that order; an
// episode that ends and restarts before the first one has been announced is
// reported as a single episode. They go through the same rules as any other
// notification: an observer that receives them while it is overflowing simply
// drops them, which counts as a loss but cannot start another episode.
//
// # Waiting
//
// [Center.Expect] and [Center.ExpectMatch] register a one-shot [Waiter]
// before an action is triggered, so the notification the action causes
// cannot be missed; [Center.WaitFor] is the shorthand for registering and
// waiting at once. A Waiter removes its registration after its first match,
// when it is cancelled, or when the context given to Wait is done.
//
// # Closing
//
// [Center.Close] removes every registration, discards every queue, and waits
// for the observer goroutines to finish the handler calls they are in.
// Afterwards Post does nothing and AddObserver returns [ErrClosed].
package notification
