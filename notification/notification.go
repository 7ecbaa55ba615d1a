package notification

import (
	"errors"
	"fmt"
	"reflect"
	"time"
)

// Any is the wildcard name: an observer registered under Any receives
// notifications of every name. The wildcard sender is nil.
const Any = ""

// Names of the notifications the Center itself posts, with the Center as the
// sender.
const (
	// NotificationObserverDidFallBehind is posted on the first drop of an
	// overflow episode, with data of type ObserverFellBehindData.
	NotificationObserverDidFallBehind = "NotificationObserverDidFallBehind"
	// NotificationObserverDidCatchUp is posted when an observer that had
	// fallen behind has delivered its whole queue, with data of type
	// ObserverCaughtUpData.
	NotificationObserverDidCatchUp = "NotificationObserverDidCatchUp"
)

// Errors returned by the Center. They are wrapped with details, so test for
// them with errors.Is.
var (
	// ErrNotObserving reports that the registration to remove does not
	// exist.
	ErrNotObserving = errors.New("notification: not observing")
	// ErrClosed reports that the Center has been closed.
	ErrClosed = errors.New("notification: center closed")
	// ErrInvalidSender reports a sender whose dynamic type is not comparable
	// and so cannot be used to register an observer.
	ErrInvalidSender = errors.New("notification: sender is not comparable")
	// ErrInvalidObserver reports an observer that is nil or whose dynamic
	// type is not comparable, so that it cannot serve as an identity.
	ErrInvalidObserver = errors.New("notification: observer is nil or not comparable")
)

// Notification is one event posted on a Center.
type Notification struct {
	// Name identifies the kind of event, for example "SIPSessionDidStart".
	Name string
	// Sender is the object that posted the notification; it may be nil.
	Sender any
	// Timestamp is the time at which Post was called.
	Timestamp time.Time
	// Data carries the details of the event, usually a struct type specific
	// to the name; it may be nil.
	Data any
}

// Observer receives notifications. HandleNotification is called on the
// observer's own delivery goroutine, one notification at a time, in post
// order.
type Observer interface {
	HandleNotification(Notification)
}

// ObserverFellBehindData is the data of NotificationObserverDidFallBehind.
type ObserverFellBehindData struct {
	// Observer is the observer whose queue overflowed. For registrations
	// made with Observe or a Waiter it is an internal value.
	Observer Observer
	// QueueLimit is the bound of the observer's queue.
	QueueLimit int
}

// ObserverCaughtUpData is the data of NotificationObserverDidCatchUp.
type ObserverCaughtUpData struct {
	// Observer is the observer that has caught up.
	Observer Observer
	// Dropped is the number of notifications the observer lost since the
	// NotificationObserverDidFallBehind that opened the episode.
	Dropped uint64
}

// Data returns the data of n as a T. The second result is false when n
// carries no data or data of another type; no conversion is attempted, so a
// notification carrying a *T does not yield a T.
func Data[T any](n Notification) (T, bool) {
	v, ok := n.Data.(T)
	return v, ok
}

// isComparable reports whether v can be used as a map key without panicking.
// Unlike reflect.Type.Comparable it also looks inside interface-typed fields.
func isComparable(v any) bool {
	t := reflect.TypeOf(v)
	if t == nil {
		return false
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Array:
		// Their fields or elements may hold interfaces, which only the
		// value can tell. (reflect.Value.Comparable allocates.)
		return t.Comparable() && reflect.ValueOf(v).Comparable()
	default:
		// The dynamic type of an interface value is never an interface,
		// so for any other kind the type decides.
		return t.Comparable()
	}
}

func checkObserver(o Observer) error {
	if o == nil {
		return fmt.Errorf("%w: nil", ErrInvalidObserver)
	}
	if !isComparable(o) {
		return fmt.Errorf("%w: %T", ErrInvalidObserver, o)
	}
	return nil
}

func checkSender(sender any) error {
	if sender != nil && !isComparable(sender) {
		return fmt.Errorf("%w: %T", ErrInvalidSender, sender)
	}
	return nil
}

// describeName renders a registration name for error messages.
func describeName(name string) string {
	if name == Any {
		return "any name"
	}
	return fmt.Sprintf("%q", name)
}

// describeSender renders a sender for error messages without calling its
// methods.
func describeSender(sender any) string {
	if sender == nil {
		return "any sender"
	}
	switch reflect.ValueOf(sender).Kind() {
	case reflect.Pointer, reflect.Chan, reflect.Func, reflect.Map, reflect.UnsafePointer, reflect.Slice:
		return fmt.Sprintf("%T(%p)", sender, sender)
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return fmt.Sprintf("%T(%#v)", sender, sender)
	default:
		return fmt.Sprintf("%T", sender)
	}
}

func describe(name string, sender any) string {
	return describeName(name) + " from " + describeSender(sender)
}
