package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipsimple-go/sipsimple/account"
	"github.com/sipsimple-go/sipsimple/application"
	"github.com/sipsimple-go/sipsimple/audio"
	"github.com/sipsimple-go/sipsimple/core"
	"github.com/sipsimple-go/sipsimple/notification"
	"github.com/sipsimple-go/sipsimple/session"
)

// sessionNotifications are the names a Session posts, NewIncoming apart.
var sessionNotifications = []string{
	session.ChangedState, session.NewOutgoing, session.GotRingIndication, session.WillStart,
	session.DidStart, session.DidFail, session.WillEnd, session.DidEnd, session.GotHoldRequest,
	session.GotUnholdRequest, session.WillStartRecordingAudio, session.DidStartRecordingAudio,
	session.WillStopRecordingAudio, session.DidStopRecordingAudio, session.GotNoAudio, session.GotDTMF,
	session.GotStreamProposal, session.AcceptedStreamProposal, session.RejectedStreamProposal,
	session.GotStreamUpdate, session.GotMessage, session.DidDeliverMessage, session.DidNotDeliverMessage,
}

// mediaOptions are what call and listen do with a call once it is
// established.
type mediaOptions struct {
	play        string // WAV file played to the remote party
	record      bool   // record the call (default file name)
	dtmf        string // digits sent once
	acceptFiles string // listen: receive offered files into this directory
}

// validate checks the media options before anything starts (exit 2).
func (m mediaOptions) validate() error {
	if m.play != "" {
		p, err := audio.OpenWAVPlayer(m.play, audio.Rate16000, nil)
		if err != nil {
			return usageError(fmt.Errorf("--play %s: %v", m.play, err))
		}
		p.Close()
	}
	for _, d := range m.dtmf {
		if !isDTMF(d) {
			return usageError(fmt.Errorf("--dtmf %q: %q is not a DTMF digit (0-9 * # A-D)", m.dtmf, d))
		}
	}
	return nil
}

func isDTMF(d rune) bool {
	return d >= '0' && d <= '9' || d == '*' || d == '#' || d >= 'A' && d <= 'D'
}

// parseSRTP maps --srtp onto the RTP configuration. "off" cannot be said
// by the RTP configuration (it only adds SRTP); it is applied to the
// account by disableSRTP.
func parseSRTP(v string) (session.RTPConfiguration, error) {
	rc := session.NewRTPConfiguration()
	switch v {
	case "", "off":
	case "optional":
		rc.UseSRTP = true
	case "mandatory":
		rc.UseSRTP, rc.SRTPForced = true, true
	default:
		return rc, usageError(fmt.Errorf("--srtp %q: want off, optional or mandatory", v))
	}
	return rc, nil
}

// disableSRTP makes a not use SRTP for this process only: the setting is
// changed in memory, never saved; the returned function restores it.
func disableSRTP(a *account.Account) (restore func(), err error) {
	if a.RTP.SRTP.Get() == "disabled" {
		return func() {}, nil
	}
	prev, wasDefault := a.RTP.SRTP.Get(), a.RTP.SRTP.IsDefault()
	if err := a.RTP.SRTP.Set("disabled"); err != nil {
		return nil, failure(err)
	}
	return func() {
		if wasDefault {
			a.RTP.SRTP.Reset()
		} else {
			a.RTP.SRTP.Set(prev)
		}
	}, nil
}

// call is one session followed by a phone.
type call struct {
	s           *session.Session
	label       string
	established chan struct{} // closed at SIPSessionDidStart
	done        chan struct{} // closed at SIPSessionDidEnd, once printed

	// Written by the observer goroutine before done is closed.
	wasEstablished bool
	failed         bool
	code           int
	reason         string
	player         *audio.WAVPlayer
	detach         func()
	recording      string // guarded by phone.mu
}

// hangUp ends the call unless it is ending already and waits for its
// end, at most endTimeout (an INVITE transaction a peer never answers
// would hold it up longer).
func (c *call) hangUp() {
	if st := c.s.State(); st != session.StateTerminating && st != session.StateTerminated {
		c.s.End(false)
	}
	select {
	case <-c.done:
	case <-time.After(endTimeout):
	}
}

// failure is the error of a call that ended before it did what it was
// for: its final response, else its reason, else fallback. Call it once
// done is closed.
func (c *call) failure(what, fallback string) error {
	switch {
	case c.failed && c.code != 0:
		return failure(fmt.Errorf("%s failed: %d %s", what, c.code, c.reason))
	case c.failed && c.reason != "":
		return failure(fmt.Errorf("%s failed: %s", what, c.reason))
	}
	return failure(fmt.Errorf("%s: %s", what, fallback))
}

// phone runs the calls of call and listen on an application: it prints
// their notifications, applies the media options when a call is
// established, answers calls when asked to and carries out interactive
// commands.
type phone struct {
	app     *application.Application
	pr      *printer
	errOut  io.Writer
	media   mediaOptions
	answer  bool // accept incoming calls with audio
	prompt  bool // interactive: tell how to answer incoming calls
	tracked bool // follow sessions not added with add (incoming calls)

	mu      sync.Mutex
	calls   map[*session.Session]*call
	n       int
	current *call
	ended   chan *call // every call once it ended
}

func newPhone(app *application.Application, pr *printer, errOut io.Writer, media mediaOptions) *phone {
	return &phone{app: app, pr: pr, errOut: errOut, media: media,
		calls: map[*session.Session]*call{}, ended: make(chan *call, 1024)}
}

// HandleNotification implements notification.Observer; it runs on the
// phone's own delivery goroutine, in post order.
func (ph *phone) HandleNotification(n notification.Notification) {
	if inv, ok := n.Sender.(*core.Invitation); ok {
		ph.declined(inv, n)
		return
	}
	s, ok := n.Sender.(*session.Session)
	if !ok {
		ph.pr.print(n) // account registration
		return
	}
	c := ph.lookup(s, ph.tracked)
	if c == nil {
		return
	}
	if n.Name == session.NewIncoming {
		// Current before the line is printed: a user (or a script)
		// answering as soon as it reads the line finds the call.
		ph.setCurrent(c)
	}
	ph.show(c, n)
	switch n.Name {
	case session.NewIncoming:
		if d, _ := notification.Data[session.StreamsData](n); ph.media.acceptFiles != "" && slices.Contains(d.Streams, "file-transfer") {
			if err := s.AcceptFileTransfer(ph.media.acceptFiles); err != nil {
				fmt.Fprintf(ph.errOut, "%s: accept file: %v\n", c.label, err)
			}
		} else if ph.answer {
			if err := s.Accept(true, true); err != nil { // chat too, when offered
				fmt.Fprintf(ph.errOut, "%s: accept: %v\n", c.label, err)
			}
		} else if ph.prompt {
			fmt.Fprintf(ph.errOut, "incoming call from %s: 'a' answers, 'x' rejects, 'b' rejects as busy\n", s.RemoteURI())
		} else if ph.media.acceptFiles != "" {
			// Listening for files only: other calls are declined, not left ringing.
			if err := s.Reject(false); err != nil {
				fmt.Fprintf(ph.errOut, "%s: decline: %v\n", c.label, err)
			}
		}
	case session.DidStart:
		c.wasEstablished = true
		ph.startMedia(c)
		close(c.established)
	case session.DidFail:
		d, _ := notification.Data[session.DidFailData](n)
		c.failed, c.code, c.reason = true, d.Code, d.Reason
	case session.DidEnd:
		ph.stopMedia(c)
		ph.mu.Lock()
		delete(ph.calls, s)
		if ph.current == c {
			ph.current = nil
		}
		ph.mu.Unlock()
		close(c.done)
		select {
		case ph.ended <- c:
		default:
		}
	}
}

// add follows an outgoing session before it is connected.
func (ph *phone) add(s *session.Session) *call {
	c := ph.lookup(s, true)
	ph.setCurrent(c)
	return c
}

func (ph *phone) lookup(s *session.Session, create bool) *call {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	if c, ok := ph.calls[s]; ok {
		return c
	}
	if !create {
		return nil
	}
	ph.n++
	c := &call{s: s, label: fmt.Sprintf("call-%d", ph.n), established: make(chan struct{}), done: make(chan struct{})}
	ph.calls[s] = c
	return c
}

func (ph *phone) setCurrent(c *call) {
	ph.mu.Lock()
	ph.current = c
	ph.mu.Unlock()
}

// currentCall is the call interactive commands act on.
func (ph *phone) currentCall() *call {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	return ph.current
}

// active returns the calls that have not ended.
func (ph *phone) active() []*call {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	out := make([]*call, 0, len(ph.calls))
	for _, c := range ph.calls {
		out = append(out, c)
	}
	return out
}

// hangUpAll ends every active call and waits, up to d, for their end.
func (ph *phone) hangUpAll(d time.Duration) {
	deadline := time.After(d)
	for _, c := range ph.active() {
		if st := c.s.State(); st != session.StateNull && st != session.StateTerminating && st != session.StateTerminated {
			c.s.End(false)
		}
	}
	for _, c := range ph.active() {
		if c.s.State() == session.StateNull {
			continue // never connected: nothing will end it
		}
		select {
		case <-c.done:
		case <-deadline:
			return
		}
	}
}

// show prints a session notification, the sender named by the call's
// label and the data made readable by sessionData.
func (ph *phone) show(c *call, n notification.Notification) {
	n.Sender = c.label
	n.Data = sessionData(c.s, n)
	ph.pr.print(n)
}

// sessionData makes the data of a notification of s readable: the digit
// of a DTMF as text, the parties of a new call, the audio of an
// established one, the duration of an ended one.
func sessionData(s *session.Session, n notification.Notification) any {
	switch n.Name {
	case session.NewIncoming, session.NewOutgoing:
		d, _ := notification.Data[session.StreamsData](n)
		return struct {
			Timestamp      time.Time
			Caller, Callee string
			Streams        []string
		}{d.Timestamp, uriText(s.CallerURI()), uriText(s.CalleeURI()), d.Streams}
	case session.GotDTMF:
		d, _ := notification.Data[session.DTMFData](n)
		return struct {
			Timestamp time.Time
			Digit     string
		}{d.Timestamp, string(d.Digit)}
	case session.DidStart:
		d, _ := notification.Data[session.TimestampData](n)
		return struct {
			Timestamp  time.Time
			Codec      string
			SampleRate int
			SRTP       bool
			LocalRTP   string
			RemoteRTP  string
		}{d.Timestamp, s.AudioCodec(), s.AudioSampleRate(), s.AudioSRTPActive(),
			hostPort(s.AudioLocalRTPAddress(), s.AudioLocalRTPPort()),
			hostPort(s.AudioRemoteRTPAddressSDP(), s.AudioRemoteRTPPortSDP())}
	case session.DidEnd:
		d, _ := notification.Data[session.OriginatorData](n)
		var dur any // none when the call was never established
		if st := s.StartTime(); !st.IsZero() {
			dur = s.StopTime().Sub(st).Round(time.Millisecond)
		}
		return struct {
			Timestamp  time.Time
			Originator string
			Duration   any
		}{d.Timestamp, d.Originator, dur}
	case session.GotMessage:
		d, _ := notification.Data[session.ChatMessageData](n)
		from := ""
		if d.CPIM != nil {
			from = d.CPIM.From.URI
		}
		return struct {
			Timestamp   time.Time
			From        string
			ContentType string
			Content     string
		}{d.Timestamp, from, d.ContentType, string(d.Content)}
	case session.DidFail:
		d, _ := notification.Data[session.DidFailData](n)
		return struct {
			Timestamp      time.Time
			Originator     string
			Code           int
			Reason         string
			Caller, Callee string
		}{d.Timestamp, d.Originator, d.Code, d.Reason, uriText(s.CallerURI()), uriText(s.CalleeURI())}
	}
	return n.Data
}

func uriText(u core.SIPURI) string { return u.String() }

func hostPort(addr string, port int) string {
	if addr == "" {
		return ""
	}
	if strings.Contains(addr, ":") {
		addr = "[" + addr + "]"
	}
	return fmt.Sprintf("%s:%d", addr, port)
}

// info prints a line of the CLI's own (not an SDK notification) in the
// same format as the notifications.
func (ph *phone) info(name, sender string, data map[string]any) {
	ph.pr.print(notification.Notification{Name: name, Sender: sender, Timestamp: time.Now(), Data: data})
}

// startMedia applies the media options to an established call: the WAV
// player, the recording, the DTMF digits.
func (ph *phone) startMedia(c *call) {
	s := c.s
	if ph.media.play != "" {
		if err := ph.attachPlayer(c); err != nil {
			fmt.Fprintf(ph.errOut, "%s: --play %s: %v\n", c.label, ph.media.play, err)
		}
	}
	if ph.media.record {
		if err := s.StartRecordingAudio(""); err != nil {
			fmt.Fprintf(ph.errOut, "%s: --record: %v\n", c.label, err)
		} else {
			ph.setRecording(c, s.AudioRecordingFileName())
		}
	}
	for _, d := range ph.media.dtmf {
		if err := s.SendDTMF(d); err != nil {
			fmt.Fprintf(ph.errOut, "%s: --dtmf: %v\n", c.label, err)
			break
		}
	}
}

func (ph *phone) attachPlayer(c *call) error {
	mixer := ph.app.Sessions().Mixer()
	a := c.s.Audio()
	if mixer == nil || a == nil {
		return errors.New("the call has no audio stream")
	}
	p, err := audio.OpenWAVPlayer(ph.media.play, mixer.Format().SampleRate, nil)
	if err != nil {
		return err
	}
	detach, err := a.AttachSource(p)
	if err != nil {
		p.Close()
		return err
	}
	c.player, c.detach = p, detach
	return nil
}

// setRecording sets the file c records to ("" when none) and returns the
// previous one.
func (ph *phone) setRecording(c *call, file string) string {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	prev := c.recording
	c.recording = file
	return prev
}

// stopMedia releases what startMedia attached and reports the recording.
func (ph *phone) stopMedia(c *call) {
	if c.detach != nil {
		c.detach()
	}
	if c.player != nil {
		c.player.Close()
	}
	if file := ph.setRecording(c, ""); file != "" {
		data := map[string]any{"file_name": file}
		if st, err := os.Stat(file); err == nil {
			data["size"] = st.Size()
		}
		ph.info("CLIRecordingSaved", c.label, data)
	}
}

// observeCalls registers the phone for the sessions' notifications: of s
// alone, or (s nil) of every session, NewIncoming included when incoming
// calls are handled (without an observer of NewIncoming, the session
// manager answers 480 itself).
func (ph *phone) observeCalls(s *session.Session, incoming bool) error {
	c := ph.app.Notifications()
	if s != nil {
		return c.AddObserver(ph, notification.Any, s)
	}
	names := sessionNotifications
	if incoming {
		names = append([]string{session.NewIncoming}, names...)
	}
	if !incoming {
		// Calls nobody handles are declined before a session exists:
		// only their invitation tells (see declined).
		names = append([]string{core.InvitationChangedState}, names...)
	}
	for _, name := range names {
		if err := c.AddObserver(ph, name, nil); err != nil {
			return err
		}
	}
	return nil
}

// declined reports an incoming call the session manager declined by
// itself (480 when nobody observes SIPSessionNewIncoming): no session is
// announced for it, so the invitation's end is all there is to print.
func (ph *phone) declined(inv *core.Invitation, n notification.Notification) {
	d, _ := notification.Data[core.InvitationChangedStateData](n)
	if d.State != core.InvitationDisconnected || d.PrevState != core.InvitationIncoming || d.Originator != "local" {
		return
	}
	data := map[string]any{"code": d.Code, "reason": d.Reason, "call_id": inv.CallID()}
	if res, ok := d.Message.(*sip.Response); ok {
		if from := res.From(); from != nil {
			data["caller"] = from.Address.String()
		}
		if to := res.To(); to != nil {
			data["callee"] = to.Address.String()
		}
	}
	ph.mu.Lock()
	ph.n++
	label := fmt.Sprintf("call-%d", ph.n)
	ph.mu.Unlock()
	ph.info("CLIIncomingCallDeclined", label, data)
	select {
	case ph.ended <- &call{label: label}:
	default:
	}
}
