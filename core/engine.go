package core

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/sipsimple-go/sipsimple/notification"
)

// Notification names posted by the Engine (the sender is the Engine).
const (
	EngineWillStart = "SIPEngineWillStart"
	EngineDidStart  = "SIPEngineDidStart"
	EngineDidFail   = "SIPEngineDidFail"
	EngineWillEnd   = "SIPEngineWillEnd"
	EngineDidEnd    = "SIPEngineDidEnd"
	EngineSIPTrace  = "SIPEngineSIPTrace"
)

// EngineDidStartData is the data of SIPEngineDidStart: the bound listeners.
type EngineDidStartData struct {
	Listeners []Listener
}

// EngineDidFailData is the data of SIPEngineDidFail.
type EngineDidFailData struct {
	Error error
}

// SIPTraceData is the data of SIPEngineSIPTrace, one per message sent or
// received (the field names are python-sipsimple's).
type SIPTraceData struct {
	Received        bool
	SourceIP        string
	SourcePort      int
	DestinationIP   string
	DestinationPort int
	Transport       string
	Data            []byte
}

// Listener is a bound SIP listening socket.
type Listener struct {
	Transport string // "udp", "tcp" or "tls"
	Addr      netip.AddrPort
}

// EngineConfig configures an Engine. The zero value listens on UDP and TCP
// on every interface, on ports the system chooses.
type EngineConfig struct {
	// LocalIP is the address to listen on; empty means every interface
	// (IPv4 and IPv6).
	LocalIP string
	// UDPPort, TCPPort and TLSPort are the listening ports; 0 lets the
	// system choose.
	UDPPort, TCPPort, TLSPort int
	// Transports lists the transports to listen on ("udp", "tcp", "tls");
	// nil means udp and tcp, plus tls when TLSConfig has a certificate.
	Transports []string
	// TLSConfig is used for TLS listening (it needs a certificate) and as
	// the base of outgoing TLS connections.
	TLSConfig *tls.Config
	// UserAgent is sent in User-Agent and Server headers.
	UserAgent string
	// Trace enables SIPEngineSIPTrace notifications.
	Trace bool
	// TraceFile, when set, receives a text trace of every message.
	TraceFile string
	// Logger receives the engine's logs; nil means slog.Default().
	Logger *slog.Logger
}

// udpSocketBuffer is the receive and send buffer size asked for the UDP
// listener.
const udpSocketBuffer = 4 << 20

// RequestHandler handles an incoming request. tx is nil for ACK.
type RequestHandler func(req *sip.Request, tx sip.ServerTransaction)

// Engine is the SIP stack of an application (python-sipsimple's Engine),
// built on sipgo's parser, transports and transactions. It binds the
// listeners, dispatches incoming requests to the handlers registered with
// Handle, answers OPTIONS itself, and traces messages on demand. One Engine
// belongs to one application; several can run in one process.
type Engine struct {
	center *notification.Center

	mu        sync.Mutex
	cfg       EngineConfig
	state     string // "new", "started", "stopped"
	ua        *sipgo.UserAgent
	server    *sipgo.Server
	client    *sipgo.Client
	listeners []Listener
	closers   []io.Closer
	handlers  map[sip.RequestMethod]RequestHandler
	dialogs   dialogs
	allowed   []string     // cached Allow list, nil when stale
	udpBound  *net.UDPAddr // the UDP listener's address as bound (maybe unspecified)
	log       *slog.Logger
	wg        sync.WaitGroup

	trace     atomic.Bool
	traceMu   sync.Mutex
	traceFile *os.File

	// Stop drains requests already read before closing the stack (see
	// drainLocked): stopping makes the UDP listener drop what it reads,
	// reqRead counts requests read (ACK and CANCEL aside), reqDispatched
	// those that reached dispatch, lastReqRead is the last read's time.
	stopping      atomic.Bool
	reqRead       atomic.Int64
	reqDispatched atomic.Int64
	lastReqRead   atomic.Int64
	// lastRead is when any message was last taken in (ACKs, CANCELs and
	// responses included): drainLocked lets it settle too (see there).
	lastRead atomic.Int64

	// finalWatch maps "Call-ID CSeq" of INVITEs in flight to a function
	// called, in the transport's read loop, when a final response to one
	// is read: before the transaction layer hands it on, and so before any
	// request read after it is handled (see watchFinal).
	finalWatch  sync.Map
	finalWatchN atomic.Int32

	// late2xx maps "Call-ID CSeq" of an outgoing INVITE to its *late2xx: 2xx
	// responses the transaction layer no longer matches (retransmissions
	// after the transaction ended, other forks' answers) go there.
	late2xx sync.Map
}

// late2xx handles a 2xx to our INVITE that arrives after its transaction.
type late2xx struct{ f func(*sip.Response) }

// watchLate2xx sends the 2xx responses to the INVITE with callID and CSeq
// seq that no transaction matches to f, until stop.
func (e *Engine) watchLate2xx(callID string, seq uint32, f func(*sip.Response)) (stop func()) {
	h := &late2xx{f: f}
	key := finalWatchKey(callID, seq)
	e.late2xx.Store(key, h)
	return func() { e.late2xx.CompareAndDelete(key, h) }
}

// unhandledResponse receives the responses that match no client
// transaction: a 2xx to one of our INVITEs goes to its invitation (RFC
// 3261 13.2.2.4: retransmissions are ACKed again, other forks' answers
// are ACKed and ended); the rest are dropped.
func (e *Engine) unhandledResponse(res *sip.Response) {
	if e.stopping.Load() {
		return
	}
	if cseq, id := res.CSeq(), res.CallID(); res.IsSuccess() && cseq != nil && id != nil && cseq.MethodName == sip.INVITE {
		if h, ok := e.late2xx.Load(finalWatchKey(id.Value(), cseq.SeqNo)); ok {
			h.(*late2xx).f(res)
			return
		}
	}
	e.log.Debug("response matching no transaction dropped", "response", res.Short())
}

// NewEngine returns a stopped Engine posting to center.
func NewEngine(center *notification.Center, cfg EngineConfig) *Engine {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Engine{center: center, cfg: cfg, state: "new", log: log, handlers: map[sip.RequestMethod]RequestHandler{}}
}

// ErrEngineNotRunning is wrapped by errors from an Engine that is not started.
var ErrEngineNotRunning = errors.New("SIP engine is not running")

// Handle registers the handler for a request method (replacing any other);
// nil removes it. Unhandled methods are answered 405 with Allow, except
// OPTIONS, which the engine answers 200 itself. Requests inside a dialog
// registered with RegisterDialog go to that dialog's handler instead.
func (e *Engine) Handle(method string, h RequestHandler) {
	e.mu.Lock()
	defer e.mu.Unlock()
	m := sip.RequestMethod(strings.ToUpper(method))
	if h == nil {
		delete(e.handlers, m)
	} else {
		e.handlers[m] = h
	}
	e.allowed = nil // recomputed on next use
}

// SetTrace turns SIPEngineSIPTrace notifications on or off at run time.
func (e *Engine) SetTrace(on bool) { e.trace.Store(on) }

// Listeners returns the bound listeners.
func (e *Engine) Listeners() []Listener {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Listener(nil), e.listeners...)
}

// Listener returns the listener of a transport.
func (e *Engine) Listener(transport string) (Listener, bool) {
	for _, l := range e.Listeners() {
		if l.Transport == transport {
			return l, true
		}
	}
	return Listener{}, false
}

// UserAgent returns the User-Agent the engine sends.
func (e *Engine) UserAgent() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.userAgentLocked()
}

func (e *Engine) userAgentLocked() string {
	if e.cfg.UserAgent == "" {
		return "sipsimple-go"
	}
	return e.cfg.UserAgent
}

// udpLocalAddr returns the UDP listener's bound address (nil without one):
// requests that set it as Laddr leave through the listening socket.
func (e *Engine) udpLocalAddr() *net.UDPAddr {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.udpBound
}

// Client returns the sipgo client used to send requests (nil when stopped).
func (e *Engine) Client() *sipgo.Client {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.client
}

// Start binds the listeners and starts the stack, posting
// SIPEngineWillStart and SIPEngineDidStart, or SIPEngineDidFail with the
// error (nothing is left bound then).
func (e *Engine) Start(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state != "new" {
		return fmt.Errorf("start SIP engine: it is %s", e.state)
	}
	e.center.Post(EngineWillStart, e, nil)
	if err := e.startLocked(); err != nil {
		e.closeLocked()
		e.center.Post(EngineDidFail, e, EngineDidFailData{Error: err})
		return err
	}
	e.state = "started"
	e.trace.Store(e.cfg.Trace || e.cfg.TraceFile != "")
	e.center.Post(EngineDidStart, e, EngineDidStartData{Listeners: append([]Listener(nil), e.listeners...)})
	return nil
}

func (e *Engine) startLocked() error {
	cfg := e.cfg
	if cfg.TraceFile != "" {
		if err := os.MkdirAll(filepath.Dir(cfg.TraceFile), 0o700); err != nil {
			return fmt.Errorf("SIP trace file: %w", err)
		}
		f, err := os.OpenFile(cfg.TraceFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("SIP trace file: %w", err)
		}
		e.traceFile = f
	}
	transports := cfg.Transports
	if transports == nil {
		transports = []string{"udp", "tcp"}
		if cfg.TLSConfig != nil && len(cfg.TLSConfig.Certificates) > 0 {
			transports = append(transports, "tls")
		}
	}
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(e.userAgentLocked()),
		sipgo.WithUserAgenTLSConfig(cfg.TLSConfig),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(e.log)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(e.log),
			sip.WithTransactionLayerUnhandledResponseHandler(e.unhandledResponse)),
	)
	if err != nil {
		return err
	}
	e.ua = ua
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(e.log))
	if err != nil {
		return err
	}
	srv.OnNoRoute(e.dispatch)
	ua.TransportLayer().OnMessage(e.traceIncoming)
	e.server = srv

	host := cfg.LocalIP
	for _, t := range transports {
		switch strings.ToLower(t) {
		case "udp":
			pc, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(cfg.UDPPort)))
			if err != nil {
				return fmt.Errorf("listen on UDP %s: %w", net.JoinHostPort(host, strconv.Itoa(cfg.UDPPort)), err)
			}
			if uc, ok := pc.(*net.UDPConn); ok {
				// Bursts (thousands of registrations at once) overflow the
				// default ~208 KB socket buffers; the kernel caps the request
				// at net.core.rmem_max/wmem_max, so errors are ignored.
				uc.SetReadBuffer(udpSocketBuffer)
				uc.SetWriteBuffer(udpSocketBuffer)
			}
			wrapped := &packetConn{PacketConn: pc, e: e}
			e.udpBound = pc.LocalAddr().(*net.UDPAddr)
			e.addListener("udp", pc.LocalAddr(), pc)
			e.serve(func() error { return srv.ServeUDP(wrapped) })
		case "tcp":
			l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(cfg.TCPPort)))
			if err != nil {
				return fmt.Errorf("listen on TCP %s: %w", net.JoinHostPort(host, strconv.Itoa(cfg.TCPPort)), err)
			}
			e.addListener("tcp", l.Addr(), l)
			e.serve(func() error { return srv.ServeTCP(l) })
		case "tls":
			if cfg.TLSConfig == nil || (len(cfg.TLSConfig.Certificates) == 0 && cfg.TLSConfig.GetCertificate == nil) {
				return errors.New("listen on TLS: no certificate configured (setting tls.certificate)")
			}
			l, err := tls.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(cfg.TLSPort)), cfg.TLSConfig)
			if err != nil {
				return fmt.Errorf("listen on TLS %s: %w", net.JoinHostPort(host, strconv.Itoa(cfg.TLSPort)), err)
			}
			e.addListener("tls", l.Addr(), l)
			e.serve(func() error { return srv.ServeTLS(l) })
		default:
			return fmt.Errorf("unsupported transport %q (want udp, tcp or tls)", t)
		}
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientLogger(e.log))
	if err != nil {
		return err
	}
	e.client = client
	// sipgo adds a UDP listener to its connection pool inside Serve, which
	// runs in its own goroutine; requests sent before that would open a
	// second socket. Wait (bounded) until every UDP listener is pooled.
	for _, l := range e.listeners {
		if l.Transport != "udp" {
			continue
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			if c, _ := ua.TransportLayer().GetConnection("udp", e.udpBound.String()); c != nil {
				break
			}
			if time.Now().After(deadline) {
				return errors.New("UDP listener did not start serving within 5s")
			}
			time.Sleep(200 * time.Microsecond)
		}
	}
	return nil
}

func (e *Engine) addListener(transport string, a net.Addr, c io.Closer) {
	ap, _ := netip.ParseAddrPort(a.String())
	e.listeners = append(e.listeners, Listener{Transport: transport, Addr: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())})
	e.closers = append(e.closers, c)
}

func (e *Engine) serve(f func() error) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if err := f(); err != nil && !errors.Is(err, net.ErrClosed) {
			e.log.Debug("SIP listener stopped", "error", err)
		}
	}()
}

// Drain bounds: Stop waits until every request read has reached dispatch,
// or until drainQuiet has passed since the last one was read (a
// retransmission is absorbed by its transaction and never reaches dispatch),
// and never longer than drainMax.
const (
	drainQuiet = 50 * time.Millisecond
	drainMax   = 250 * time.Millisecond
)

// drainLocked stops reading UDP and waits (bounded) for the requests
// already read to get their server transaction. sipgo hands each request to
// a goroutine of its own, which looks up the connection to answer on in a
// pool that closing the stack empties; a request still on its way then
// makes sipgo open a new socket towards its Via host, which may be any
// address, and that socket is never closed.
func (e *Engine) drainLocked() {
	e.stopping.Store(true)
	deadline := time.Now().Add(drainMax)
	for e.reqDispatched.Load() < e.reqRead.Load() {
		now := time.Now()
		if now.After(deadline) || now.Sub(time.Unix(0, e.lastReqRead.Load())) > drainQuiet {
			return
		}
		time.Sleep(time.Millisecond)
	}
	// An ACK or a CANCEL is not counted (it may never reach dispatch), yet
	// sipgo's goroutine for it may still look up a connection (the ACK of
	// a 2xx gets a server transaction): give what was read last a moment
	// to get there before the pool is emptied.
	for {
		now := time.Now()
		if now.After(deadline) || now.Sub(time.Unix(0, e.lastRead.Load())) > drainSettle {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// drainSettle is how long drainLocked lets the last message read reach
// its transaction.
const drainSettle = 10 * time.Millisecond

// noteRequestRead counts a request read from the network for drainLocked.
func (e *Engine) noteRequestRead() {
	e.lastReqRead.Store(time.Now().UnixNano())
	e.reqRead.Add(1)
}

// countsForDrain tells whether a request with this start line is counted
// by drainLocked: ACK and CANCEL may never reach dispatch.
func countsForDrain(method string) bool {
	return method != "ACK" && method != "CANCEL"
}

// closeLocked closes the listeners and the stack and waits for the serving
// goroutines.
func (e *Engine) closeLocked() {
	e.drainLocked()
	// The transactions end first: a transaction still retransmitting after
	// its listener is gone makes sipgo open a new socket towards the Via
	// host, which may be any address (and leaks the socket's reader).
	if e.ua != nil {
		e.ua.Close()
	}
	for _, c := range e.closers {
		c.Close()
	}
	e.wg.Wait()
	if e.traceFile != nil {
		e.traceMu.Lock()
		e.traceFile.Close()
		e.traceFile = nil
		e.traceMu.Unlock()
	}
	e.closers, e.listeners, e.ua, e.server, e.client, e.udpBound = nil, nil, nil, nil, nil, nil
}

// Stop closes every listener and connection and ends the transactions,
// posting SIPEngineWillEnd and SIPEngineDidEnd.
func (e *Engine) Stop(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state != "started" {
		return fmt.Errorf("stop: %w (it is %s)", ErrEngineNotRunning, e.state)
	}
	e.center.Post(EngineWillEnd, e, nil)
	e.closeLocked()
	e.state = "stopped"
	e.center.Post(EngineDidEnd, e, nil)
	return nil
}

// Allowed lists the methods the engine accepts: those with handlers plus
// OPTIONS (and ACK/CANCEL, which follow INVITE).
func (e *Engine) Allowed() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.allowedLocked()...)
}

// allowedLocked returns the cached, sorted method list (recomputed by
// Handle); callers must not modify it. e.mu must be held.
func (e *Engine) allowedLocked() []string {
	if e.allowed == nil {
		methods := []string{"OPTIONS"}
		for m := range e.handlers {
			if m != sip.OPTIONS {
				methods = append(methods, string(m))
			}
		}
		if _, ok := e.handlers[sip.INVITE]; ok {
			methods = append(methods, "ACK", "CANCEL")
		}
		slices.Sort(methods)
		e.allowed = methods
	}
	return e.allowed
}

// callAllow is the Allow header of INVITE dialogs: the engine's methods
// plus those of the INVITE usage.
func (e *Engine) callAllow() string {
	methods := append([]string{"INVITE", "ACK", "BYE", "CANCEL"}, e.allowedMethods()...)
	slices.Sort(methods)
	return strings.Join(slices.Compact(methods), ", ")
}

// allowedMethods returns the cached list for the per-request checks
// without copying it.
func (e *Engine) allowedMethods() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.allowedLocked()
}

// dispatch routes an incoming request to its handler.
func (e *Engine) dispatch(req *sip.Request, tx sip.ServerTransaction) {
	if countsForDrain(string(req.Method)) {
		e.reqDispatched.Add(1)
	}
	dh := e.dialogHandler(req)
	if !e.checkRequest(req, tx, dh != nil) {
		return
	}
	if dh == nil {
		e.mu.Lock()
		dh = e.handlers[req.Method]
		e.mu.Unlock()
	}
	if req.Method == sip.ACK {
		// Never answered, never waited for: sipgo makes a server
		// transaction for an ACK that matches none (the ACK of a 2xx),
		// which must not get a 405 nor hold this goroutine.
		if dh != nil {
			dh(req, nil)
		}
		return
	}
	if dh != nil {
		if tx == nil {
			dh(req, nil)
			return
		}
		w := &answeredTx{ServerTransaction: tx, final: make(chan struct{})}
		dh(req, w)
		e.awaitAnswer(req, w)
		return
	}
	if tx == nil {
		return // an ACK nobody waits for
	}
	switch req.Method {
	case sip.OPTIONS:
		e.respond(tx, e.OptionsResponse(req))
	case sip.CANCEL:
		// sipgo answers a CANCEL that matches an INVITE transaction itself.
		e.respond(tx, sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
	default:
		res := sip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil)
		res.AppendHeader(sip.NewHeader("Allow", strings.Join(e.allowedMethods(), ", ")))
		e.respond(tx, res)
	}
}

// answeredTx is the server transaction handed to handlers: it notes when a
// final response has been sent.
type answeredTx struct {
	sip.ServerTransaction
	once  sync.Once
	final chan struct{}
}

// Respond sends res and, for a final response, marks the request answered.
func (t *answeredTx) Respond(res *sip.Response) error {
	err := t.ServerTransaction.Respond(res)
	if res.StatusCode >= 200 {
		t.once.Do(func() { close(t.final) })
	}
	return err
}

// Handlers may answer later, from another goroutine (an incoming call
// rings until the user answers). sipgo ends a server transaction that has
// no final response as soon as its handler returns, so dispatch keeps the
// handler's goroutine until the request is answered, the transaction ends
// (a CANCEL), or the time a client waits has passed: then an unanswered
// INVITE gets 408 and another request nothing more (its client gave up
// after 64*T1).
const (
	inviteAnswerWait = 3 * time.Minute
)

func (e *Engine) awaitAnswer(req *sip.Request, w *answeredTx) {
	limit := 64 * sip.T1
	if req.Method == sip.INVITE {
		limit = inviteAnswerWait
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case <-w.final:
	case <-w.Done():
	case <-timer.C:
		if req.Method == sip.INVITE {
			e.respond(w, sip.NewResponseFromRequest(req, 408, "Request Timeout", nil))
		}
	}
}

// OptionsResponse builds the 200 answer to OPTIONS with Allow, Accept and
// Supported.
func (e *Engine) OptionsResponse(req *sip.Request) *sip.Response {
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", strings.Join(e.allowedMethods(), ", ")))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	res.AppendHeader(sip.NewHeader("Supported", strings.Join(supportedOptionTags, ", ")))
	return res
}

// Respond sends res on tx, adding the Server header, and logs failures.
func (e *Engine) respond(tx sip.ServerTransaction, res *sip.Response) {
	if res.GetHeader("Server") == nil {
		res.AppendHeader(sip.NewHeader("Server", e.UserAgent()))
	}
	if err := tx.Respond(res); err != nil {
		e.log.Debug("sending response failed", "code", res.StatusCode, "error", err)
		return
	}
	e.traceOutgoing(res)
}

// traceOutgoing traces a message sent on a stream transport (UDP is traced
// raw by packetConn, retransmissions included; stream transports never
// retransmit, so tracing at the points where the engine sends is complete).
func (e *Engine) traceOutgoing(msg sip.Message) {
	if !e.trace.Load() || strings.EqualFold(msg.Transport(), "udp") {
		return
	}
	src, dst := msg.Source(), msg.Destination()
	if via := msg.Via(); via != nil {
		if req, ok := msg.(*sip.Request); ok {
			src = net.JoinHostPort(via.Host, strconv.Itoa(via.Port))
			dst = req.Destination()
		}
	}
	if res, ok := msg.(*sip.Response); ok {
		src, dst = res.Source(), res.Destination()
	}
	e.emitTrace(false, strings.ToLower(msg.Transport()), src, dst, []byte(msg.String()))
}

// Respond sends res on tx with the engine's Server header.
func (e *Engine) Respond(tx sip.ServerTransaction, res *sip.Response) { e.respond(tx, res) }

// traceIncoming traces messages parsed from stream transports (UDP
// datagrams are traced raw by packetConn).
func (e *Engine) traceIncoming(msg sip.Message) {
	if res, ok := msg.(*sip.Response); ok && res.StatusCode >= 200 && e.finalWatchN.Load() > 0 {
		if cseq, callID := res.CSeq(), res.CallID(); cseq != nil && callID != nil && cseq.MethodName == sip.INVITE {
			if f, ok := e.finalWatch.Load(finalWatchKey(callID.Value(), cseq.SeqNo)); ok {
				f.(func())()
			}
		}
	}
	if !strings.EqualFold(msg.Transport(), "udp") {
		e.lastRead.Store(time.Now().UnixNano())
		if req, ok := msg.(*sip.Request); ok && countsForDrain(string(req.Method)) {
			e.noteRequestRead()
		}
	}
	if !e.trace.Load() || msg.Transport() == "UDP" || strings.EqualFold(msg.Transport(), "udp") {
		return
	}
	src := msg.Source()
	dst := msg.Destination()
	e.emitTrace(true, strings.ToLower(msg.Transport()), src, dst, []byte(msg.String()))
}

func finalWatchKey(callID string, seq uint32) string {
	return callID + " " + strconv.FormatUint(uint64(seq), 10)
}

// watchFinal calls f, in the transport's read loop, when a final response
// to the INVITE with callID and CSeq seq is read; stop ends the watch. It
// orders the response before whatever the transport reads after it, which
// the transaction layer's goroutines do not: a re-INVITE that the peer sent
// after its answer to ours must not find ours still pending (RFC 3261 14.2).
// f must not block.
func (e *Engine) watchFinal(callID string, seq uint32, f func()) (stop func()) {
	key := finalWatchKey(callID, seq)
	e.finalWatch.Store(key, f)
	e.finalWatchN.Add(1)
	return func() {
		if _, ok := e.finalWatch.LoadAndDelete(key); ok {
			e.finalWatchN.Add(-1)
		}
	}
}

// emitTrace posts SIPEngineSIPTrace and writes the trace file.
func (e *Engine) emitTrace(received bool, transport, src, dst string, data []byte) {
	d := SIPTraceData{Received: received, Transport: transport, Data: data}
	d.SourceIP, d.SourcePort = splitHostPort(src)
	d.DestinationIP, d.DestinationPort = splitHostPort(dst)
	e.center.Post(EngineSIPTrace, e, d)
	e.traceMu.Lock()
	defer e.traceMu.Unlock()
	if e.traceFile != nil {
		dir := "SENT"
		if received {
			dir = "RECEIVED"
		}
		fmt.Fprintf(e.traceFile, "%s %s %s %s:%d -> %s:%d (%d bytes)\n%s\n--\n", time.Now().Format(time.RFC3339Nano), dir,
			strings.ToUpper(transport), d.SourceIP, d.SourcePort, d.DestinationIP, d.DestinationPort, len(data), data)
	}
}

func splitHostPort(s string) (string, int) {
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return s, 0
	}
	n, _ := strconv.Atoi(p)
	return h, n
}

// packetConn wraps the UDP listening socket: it traces every datagram and
// screens received ones before sipgo parses them.
type packetConn struct {
	net.PacketConn
	e *Engine
}

func (c *packetConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(b)
		if err != nil {
			return n, addr, err
		}
		if c.e.trace.Load() && n > 4 {
			c.e.emitTrace(true, "udp", addr.String(), c.LocalAddr().String(), append([]byte(nil), b[:n]...))
		}
		if c.e.stopping.Load() {
			continue // the engine is stopping: nothing new is taken in
		}
		if m, ok := c.e.screenDatagram(b[:n], addr, c); ok {
			c.e.lastRead.Store(time.Now().UnixNano())
			if isCountedRequest(b[:m]) {
				c.e.noteRequestRead()
			}
			return m, addr, nil
		}
	}
}

// isCountedRequest tells whether a screened datagram is a request that
// drainLocked waits for.
func isCountedRequest(b []byte) bool {
	if bytes.HasPrefix(b, []byte("SIP/")) {
		return false
	}
	sp := bytes.IndexByte(b, ' ')
	return sp > 0 && countsForDrain(string(b[:sp]))
}

func (c *packetConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if c.e.trace.Load() {
		c.e.emitTrace(false, "udp", c.LocalAddr().String(), addr.String(), append([]byte(nil), b...))
	}
	return c.PacketConn.WriteTo(b, addr)
}
