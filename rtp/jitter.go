package rtp

import (
	"time"
)

const (
	// jbSlots is the capacity of the jitter buffer ring in packets (a power
	// of two): 2.56 s of 20 ms packets, beyond any useful delay (the
	// maximum delay is 200 ms by default) and small enough for thousands of
	// calls (about 13 KB each).
	jbSlots = 128
	// jbWindow is the number of packets per window of the transit-time
	// minimum and maximum; the spread is taken over the current and the
	// previous window, so a jitter peak is remembered for 1-2 windows.
	jbWindow = 100
	// jbShrinkDiv: when the measured spread falls, the delay shrinks by
	// frame/jbShrinkDiv per packet (about 3% of real time), dropping one
	// packet each time a whole frame has been shed.
	jbShrinkDiv = 32
	// fifoSize bounds the queue of the pass-through mode.
	fifoSize = 256
)

// jbEntry is one slot of the ring.
type jbEntry struct {
	ext   uint64 // extended sequence number
	used  bool
	skip  bool  // a sequence number taken by a telephone-event packet
	media int64 // media time of the packet in ns (unwrapped timestamp)
	r     Received
}

// jitterBuffer reorders the packets of one source and hands them out at
// their playout time. It is not safe for concurrent use (the Session locks
// it). All times are nanoseconds since epoch (the first arrival).
//
// Playout time ("due") of a packet = media time + base + delay, where
// media time is the RTP timestamp in ns, base is the smallest transit time
// (arrival - media time) seen over the last one or two windows (the
// fastest packet), and delay is the playout delay. The delay follows the
// spread of transit times over the same windows (max - min: how much
// later than the fastest packet the slowest one came), clamped to
// [minDelay, maxDelay]; it grows at once and shrinks slowly.
type jitterBuffer struct {
	minDelay, maxDelay int64
	ptime              int64
	passthrough        bool

	slots       []jbEntry
	count       int // used slots, placeholders included
	audio       int // used slots holding packets
	started     bool
	next        uint64 // next sequence number to play, when started
	first       uint64 // smallest stored sequence number, before start
	maxExt      uint64
	pendingLost int // sequence numbers skipped since the last packet out

	// timing
	epoch     time.Time
	haveEpoch bool
	clock     int
	haveTS    bool
	tsLast    uint32
	tsExt     int64
	haveWin   bool
	minCur    int64
	minPrev   int64
	maxCur    int64
	maxPrev   int64
	winN      int
	delay     int64
	frame     int64
	haveLast  bool
	lastExt   uint64
	lastMedia int64

	// pass-through FIFO
	fifo                        []Received
	fhead                       int
	fn                          int
	haveSeq                     bool
	lastSeq                     uint16
	duplicates, late, discarded uint64
}

func newJitterBuffer(minDelay, maxDelay, ptime time.Duration, passthrough bool) *jitterBuffer {
	jb := &jitterBuffer{
		minDelay:    minDelay.Nanoseconds(),
		maxDelay:    maxDelay.Nanoseconds(),
		ptime:       ptime.Nanoseconds(),
		passthrough: passthrough,
		delay:       minDelay.Nanoseconds(),
		frame:       ptime.Nanoseconds(),
	}
	if passthrough {
		jb.fifo = make([]Received, fifoSize)
	}
	// The slots are made on the first packet: a call that never receives
	// RTP does not pay for them.
	return jb
}

// reset forgets everything about the current source (SSRC change,
// sequence restart), counting queued packets as discarded.
func (jb *jitterBuffer) reset() {
	jb.flush()
	jb.clock = 0
	jb.haveTS = false
	jb.haveWin = false
	jb.delay = jb.minDelay
	jb.frame = jb.ptime
	jb.haveLast = false
	jb.haveSeq = false
}

// flush drops every queued packet.
func (jb *jitterBuffer) flush() {
	if jb.passthrough {
		for jb.fn > 0 {
			jb.fifo[jb.fhead] = Received{}
			jb.fhead = (jb.fhead + 1) % len(jb.fifo)
			jb.fn--
			jb.discarded++
		}
		return
	}
	if jb.count > 0 {
		for i := range jb.slots {
			jb.slots[i] = jbEntry{}
		}
	}
	jb.discarded += uint64(jb.audio)
	jb.count, jb.audio = 0, 0
	jb.started = false
	jb.pendingLost = 0
}

// ns converts t to nanoseconds since the epoch.
func (jb *jitterBuffer) ns(t time.Time) int64 { return t.Sub(jb.epoch).Nanoseconds() }

// wall converts nanoseconds since the epoch back to a time.
func (jb *jitterBuffer) wall(ns int64) time.Time { return jb.epoch.Add(time.Duration(ns)) }

// grace is how late a due packet may be played before it is dropped in
// favour of a newer packet that is also due: one and a half frames of the
// consumer's clock (ptime) or of the stream, whichever is longer. The half
// frame absorbs a consumer clock ticking in step with the due times, where
// a tick may find nothing due and the next one two packets.
func (jb *jitterBuffer) grace() int64 { return max(jb.ptime, jb.frame) * 3 / 2 }

func (jb *jitterBuffer) base() int64 { return min(jb.minCur, jb.minPrev) }

// due is the playout time of e.
func (jb *jitterBuffer) due(e *jbEntry) int64 { return e.media + jb.base() + jb.delay }

// Delay returns the current playout delay.
func (jb *jitterBuffer) currentDelay() time.Duration {
	if jb.passthrough {
		return 0
	}
	return time.Duration(jb.delay)
}

// pushResult says what push did with a packet.
type pushResult uint8

const (
	pushQueued pushResult = iota
	pushDuplicate
	pushLate
)

// push stores a packet with extended sequence number ext. skip marks a
// sequence number used by a telephone-event packet, which is never played
// and not counted as lost. clock is the RTP clock rate of the payload type.
func (jb *jitterBuffer) push(r Received, ext uint64, clock int, skip bool) pushResult {
	if !jb.haveEpoch {
		jb.epoch, jb.haveEpoch = r.Arrival, true
	}
	if jb.passthrough {
		return jb.pushFIFO(r, skip)
	}
	var media int64
	if !skip {
		if jb.clock != 0 && clock != jb.clock {
			// Timestamps of another clock rate do not continue the old
			// timeline: start over.
			jb.reset()
		}
		jb.clock = clock
		media = jb.mediaTime(r.Timestamp)
		jb.updateTiming(jb.ns(r.Arrival), media, ext)
	}

	switch {
	case jb.count == 0 && !jb.started:
		jb.first, jb.maxExt = ext, ext
	case jb.started:
		if ext < jb.next {
			jb.late++
			return pushLate
		}
		if ext >= jb.next+jbSlots {
			// A jump beyond the window: the sender restarted its sequence
			// without telling; resynchronise on this packet.
			jb.flush()
			jb.first, jb.maxExt = ext, ext
		}
	default: // queued, not yet started
		if ext < jb.first {
			if jb.maxExt-ext >= jbSlots {
				jb.late++
				return pushLate
			}
			jb.first = ext
		} else if ext >= jb.first+jbSlots {
			jb.flush()
			jb.first, jb.maxExt = ext, ext
		}
	}
	if jb.slots == nil {
		jb.slots = make([]jbEntry, jbSlots)
	}
	e := &jb.slots[ext&(jbSlots-1)]
	if e.used {
		if e.ext == ext {
			if !skip {
				jb.duplicates++
			}
			return pushDuplicate
		}
		jb.remove(e) // a stale slot; cannot happen inside the window
	}
	*e = jbEntry{ext: ext, used: true, skip: skip, media: media}
	if !skip {
		e.r = r
		jb.audio++
	}
	jb.count++
	if ext > jb.maxExt {
		jb.maxExt = ext
	}
	return pushQueued
}

// mediaTime unwraps the 32-bit timestamp ts (relative to the first one of
// the source) and converts it to nanoseconds.
func (jb *jitterBuffer) mediaTime(ts uint32) int64 {
	if !jb.haveTS {
		jb.haveTS, jb.tsLast, jb.tsExt = true, ts, 0
	}
	d := int64(int32(ts - jb.tsLast))
	ext := jb.tsExt + d
	if d > 0 {
		jb.tsLast, jb.tsExt = ts, ext
	}
	return ext * int64(time.Second) / int64(jb.clock)
}

// updateTiming feeds the arrival of one audio packet into the transit
// windows and adapts the delay.
func (jb *jitterBuffer) updateTiming(arrival, media int64, ext uint64) {
	transit := arrival - media
	if jb.haveWin {
		// A jump of the timestamps against the clock by more than any
		// jitter (the sender restarted its timeline): rebase.
		limit := max(4*jb.maxDelay, int64(time.Second))
		if d := transit - jb.base(); d > limit || d < -limit {
			jb.flush()
			jb.haveWin = false
		}
	}
	if !jb.haveWin {
		jb.haveWin = true
		jb.minCur, jb.minPrev, jb.maxCur, jb.maxPrev = transit, transit, transit, transit
		jb.winN = 0
	} else {
		jb.minCur = min(jb.minCur, transit)
		jb.maxCur = max(jb.maxCur, transit)
		jb.winN++
		if jb.winN >= jbWindow {
			jb.minPrev, jb.maxPrev = jb.minCur, jb.maxCur
			jb.minCur, jb.maxCur = transit, transit
			jb.winN = 0
		}
	}
	if jb.haveLast && ext == jb.lastExt+1 {
		if f := media - jb.lastMedia; f > 0 && f <= int64(200*time.Millisecond) {
			jb.frame = f
		}
	}
	if !jb.haveLast || ext > jb.lastExt {
		jb.haveLast, jb.lastExt, jb.lastMedia = true, ext, media
	}

	spread := max(jb.maxCur, jb.maxPrev) - jb.base()
	target := min(max(spread, jb.minDelay), jb.maxDelay)
	switch {
	case target > jb.delay:
		jb.delay = target
	case target < jb.delay:
		jb.delay = max(target, jb.delay-max(jb.frame/jbShrinkDiv, 1))
	}
}

// at returns the entry of sequence number ext, or nil.
func (jb *jitterBuffer) at(ext uint64) *jbEntry {
	if jb.slots == nil {
		return nil
	}
	e := &jb.slots[ext&(jbSlots-1)]
	if e.used && e.ext == ext {
		return e
	}
	return nil
}

// nextAudio returns the first queued packet (not placeholder) at or after
// ext, or nil.
func (jb *jitterBuffer) nextAudio(ext uint64) *jbEntry {
	for x := ext; x <= jb.maxExt; x++ {
		if e := jb.at(x); e != nil && !e.skip {
			return e
		}
	}
	return nil
}

func (jb *jitterBuffer) remove(e *jbEntry) {
	if !e.skip {
		jb.audio--
	}
	jb.count--
	*e = jbEntry{}
}

// pop returns the next packet whose playout time has come at now. When
// nothing is due it returns false and the time at which something will be
// (zero when the buffer holds nothing to wait for). With catchUp, a packet
// too late for its slot is dropped when newer audio is due too (a
// consumer playing out in real time that fell behind); without, every
// packet is returned in order however late it is read.
func (jb *jitterBuffer) pop(now time.Time, catchUp bool) (Received, bool, time.Time) {
	if jb.passthrough {
		return jb.popFIFO()
	}
	for jb.count > 0 {
		t := jb.ns(now)
		if !jb.started {
			e := jb.at(jb.first)
			if e != nil && !e.skip {
				if d := jb.due(e); d > t {
					return Received{}, false, jb.wall(d)
				}
			}
			jb.started, jb.next = true, jb.first
		}
		e := jb.at(jb.next)
		if e == nil {
			// A gap: wait for the packet until the next one is due, then
			// give up on it.
			g := jb.nextAudio(jb.next + 1)
			if g == nil {
				return Received{}, false, time.Time{}
			}
			if d := jb.due(g); d > t {
				return Received{}, false, jb.wall(d)
			}
			for ; jb.next < g.ext; jb.next++ {
				if p := jb.at(jb.next); p != nil {
					jb.remove(p) // a telephone-event placeholder
				} else {
					jb.pendingLost++
				}
			}
			continue
		}
		if e.skip {
			jb.remove(e)
			jb.next++
			continue
		}
		d := jb.due(e)
		if d > t {
			return Received{}, false, jb.wall(d)
		}
		if catchUp && t-d > jb.grace() {
			// Too late for its slot, and newer audio is due: the consumer
			// is behind (or the delay shrank); drop this one.
			if h := jb.nextAudio(jb.next + 1); h != nil && jb.due(h) <= t {
				jb.late++
				jb.pendingLost++
				jb.remove(e)
				jb.next++
				continue
			}
		}
		r := e.r
		r.LostBefore = jb.pendingLost
		jb.pendingLost = 0
		jb.remove(e)
		jb.next++
		return r, true, time.Time{}
	}
	return Received{}, false, time.Time{}
}

// pending reports whether packets are queued.
func (jb *jitterBuffer) pending() bool {
	if jb.passthrough {
		return jb.fn > 0
	}
	return jb.audio > 0
}

func (jb *jitterBuffer) pushFIFO(r Received, skip bool) pushResult {
	seq := r.SequenceNumber
	if jb.haveSeq {
		if d := int16(seq - jb.lastSeq); d > 1 && d < 100 && !skip {
			r.LostBefore = int(d) - 1
		}
		if int16(seq-jb.lastSeq) > 0 {
			jb.lastSeq = seq
		}
	} else {
		jb.haveSeq, jb.lastSeq = true, seq
	}
	if skip {
		return pushQueued
	}
	if jb.fn == len(jb.fifo) {
		jb.fifo[jb.fhead] = Received{}
		jb.fhead = (jb.fhead + 1) % len(jb.fifo)
		jb.fn--
		jb.discarded++
	}
	jb.fifo[(jb.fhead+jb.fn)%len(jb.fifo)] = r
	jb.fn++
	return pushQueued
}

func (jb *jitterBuffer) popFIFO() (Received, bool, time.Time) {
	if jb.fn == 0 {
		return Received{}, false, time.Time{}
	}
	r := jb.fifo[jb.fhead]
	jb.fifo[jb.fhead] = Received{}
	jb.fhead = (jb.fhead + 1) % len(jb.fifo)
	jb.fn--
	return r, true, time.Time{}
}
