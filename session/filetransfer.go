package session

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sipsimple-go/sipsimple/account"
	"github.com/sipsimple-go/sipsimple/msrp"
	"github.com/sipsimple-go/sipsimple/sdp"
)

// Notification names posted by an MSRPFileTransfer (the sender), seed
// 001's MSRPFileTransfer notifications, plus progress.
const (
	FileTransferDidInitialize     = "MSRPFileTransferDidInitialize"
	FileTransferDidStart          = "MSRPFileTransferDidStart"
	FileTransferDidFail           = "MSRPFileTransferDidFail"
	FileTransferGotFile           = "MSRPFileTransferGotFile"
	FileTransferDidDeliverFile    = "MSRPFileTransferDidDeliverFile"
	FileTransferDidNotDeliverFile = "MSRPFileTransferDidNotDeliverFile"
	FileTransferWillEnd           = "MSRPFileTransferWillEnd"
	FileTransferDidEnd            = "MSRPFileTransferDidEnd"
	// FileTransferProgress reports the bytes done (python-sipsimple's
	// FileTransferHandlerProgress), at most every 200 ms.
	FileTransferProgress = "MSRPFileTransferProgress"
)

// fileChunkSize is the chunk size of file transfers: 64 KiB, as
// python-sipsimple sends files.
const fileChunkSize = 64 << 10

// FileData is the data of MSRPFileTransferGotFile, DidDeliverFile and
// DidNotDeliverFile.
type FileData struct {
	Timestamp time.Time
	// FileName is the file sent, or where the received file was saved.
	FileName string
	// Size is its size in octets.
	Size int64
	// Code and Reason say why it was not delivered (0 when the stream
	// ended first).
	Code   int
	Reason string
}

// FileProgressData is the data of MSRPFileTransferProgress.
type FileProgressData struct {
	Timestamp   time.Time
	Transferred int64
	Total       int64
}

// MSRPFileTransfer is a file-transfer stream (RFC 5547, seed 001's
// MSRPFileTransfer): one file sent over its own MSRP session, described
// in SDP by a=file-selector (name, type, size, SHA-1) and
// a=file-transfer-id. The sender streams the file from disk; the
// receiver writes it into a hidden partial file in its directory, checks
// the SHA-1, and then gives it its name, one that overwrites nothing; a
// file whose check fails is removed. Memory use does not depend on the
// file's size.
//
// Resume: a transfer cut short leaves its partial file, named after the
// file's SHA-1, holding what arrived without a gap. When the same file
// is offered again, the sender asks with python-sipsimple's FILE_OFFSET
// request (both sides announce it with a=x-file-offset, as
// python-sipsimple and Blink do) how much the receiver has, and sends
// only the rest (ResumedAt). Partial files are removed after
// MSRPConfig.PartialFileLifetime.
type MSRPFileTransfer struct {
	msrpStream
	addr string

	sending  bool
	path     string // the file sent
	selector sdp.FileSelector
	id       string // file-transfer-id
	dir      string // where a received file goes

	// Guarded by mu.
	file      *os.File // the partial file being received
	partial   string   // its name
	saved     string   // the received file's name, once complete
	msgID     string   // the Message-ID of the file being received
	askOffset bool     // resume: ask FILE_OFFSET once connected
	resumedAt int64    // octets not transferred again (resumed)

	// onOutcome, when set, is called (from the events goroutine) once
	// the sent file is delivered or not: its session ends.
	onOutcome func()
}

// NewFileTransfer prepares sending the file at path: it reads the file
// once to compute its SHA-1 (RFC 5547's file-selector hash) and posts
// MSRPFileTransferDidInitialize. Offer gives the SDP to send.
func (m *Manager) NewFileTransfer(sipHost, path string) (*MSRPFileTransfer, error) {
	return m.newOutgoingTransfer(sipHost, path, nil)
}

// newOutgoingTransfer is NewFileTransfer for a session of acc.
func (m *Manager) newOutgoingTransfer(sipHost, path string, acc *account.Account) (*MSRPFileTransfer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("file transfer: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("file transfer: %w", err)
	}
	if !st.Mode().IsRegular() || st.Size() == 0 {
		return nil, fmt.Errorf("file transfer: %s is not a regular, non-empty file", path)
	}
	h := sha1.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("file transfer: hashing %s: %w", path, err)
	}
	// The file-selector's type has no blanks ("text/plain;charset=utf-8",
	// RFC 5547 section 5: selectors are separated by spaces).
	ctype := strings.ReplaceAll(mime.TypeByExtension(filepath.Ext(path)), " ", "")
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	sel := sdp.FileSelector{Name: filepath.Base(path), Type: ctype, Size: st.Size(),
		Hash: &sdp.Hash{Algorithm: "sha-1", Value: h.Sum(nil)}}
	t, err := m.newFileTransfer(sipHost, acc, true, sel, msrp.NewMessageID())
	if err != nil {
		return nil, err
	}
	t.path = path
	return t, nil
}

// NewIncomingFileTransfer prepares receiving the file a peer offers in
// offer (an m=message line with a=file-selector) into dir; Answer gives
// the SDP answer.
func (m *Manager) NewIncomingFileTransfer(sipHost string, offer sdp.Media, dir string) (*MSRPFileTransfer, error) {
	return m.newIncomingTransfer(sipHost, offer, dir, nil)
}

// newIncomingTransfer is NewIncomingFileTransfer for a session of acc.
func (m *Manager) newIncomingTransfer(sipHost string, offer sdp.Media, dir string, acc *account.Account) (*MSRPFileTransfer, error) {
	x, err := sdp.ParseMSRP(offer)
	if err != nil {
		return nil, err
	}
	if x.FileSelector == nil || x.FileSelector.Name == "" || len(x.Path) == 0 {
		return nil, errors.New("file transfer: the offer has no file-selector name or no path")
	}
	if h := x.FileSelector.Hash; h != nil && (!strings.EqualFold(h.Algorithm, "sha-1") || len(h.Value) != sha1.Size) {
		return nil, fmt.Errorf("file transfer: hash %s of %d octets not supported (sha-1, %d octets, is)", h.Algorithm, len(h.Value), sha1.Size)
	}
	if max := m.cfg.Media.MSRP.maxFileSize(); max > 0 && x.FileSelector.Size > max {
		return nil, fmt.Errorf("file transfer: a file of %d octets exceeds the limit of %d (MSRPConfig.MaxFileSize)", x.FileSelector.Size, max)
	}
	if dir == "" {
		return nil, errors.New("file transfer: no directory to receive into")
	}
	t, err := m.newFileTransfer(sipHost, acc, false, *x.FileSelector, x.FileTransferID)
	if err != nil {
		return nil, err
	}
	t.dir = dir
	m.expirePartials(dir)
	return t, nil
}

func (m *Manager) newFileTransfer(sipHost string, acc *account.Account, sending bool, sel sdp.FileSelector, id string) (*MSRPFileTransfer, error) {
	cfg, addr, lis, err := m.msrpListenerFor(sipHost, acc)
	if err != nil {
		return nil, fmt.Errorf("file transfer: %w", err)
	}
	t := &MSRPFileTransfer{msrpStream: msrpStream{mgr: m, cfg: cfg, lis: lis}, addr: addr.String(), sending: sending, selector: sel, id: id}
	sc := msrp.SessionConfig{AcceptTypes: []string{"*"}, TLSConfig: clientTLS(m.cfg.Media.MSRP.TLS), KeepAlive: cfg.keepAlive(), Logger: m.log}
	if !sending {
		sc.Storage = t.storage
		sc.OnRequest = t.onRequest
		// A peer sending more than its file-selector announced (or,
		// without a size, than MaxFileSize) is cut off (413) rather
		// than filling the disk.
		sc.MaxStoredMessageSize = m.cfg.Media.MSRP.maxFileSize()
		if sel.Size > 0 {
			sc.MaxStoredMessageSize = sel.Size
		}
	}
	t.mcfg = sc
	if t.ms, err = lis.NewSession(sc); err != nil {
		return nil, fmt.Errorf("file transfer: %w", err)
	}
	m.chatMu.Lock()
	if m.transfers == nil {
		m.transfers = map[*MSRPFileTransfer]struct{}{}
	}
	m.transfers[t] = struct{}{}
	m.chatMu.Unlock()
	m.center.Post(FileTransferDidInitialize, t, TimestampData{Timestamp: now()})
	return t, nil
}

// ResumedAt is where the transfer resumed an interrupted one: the
// octets of the file the receiver already had, which were not sent
// again; 0 when the file went whole. The sender knows it once the
// receiver answered FILE_OFFSET, the receiver once the file's first
// chunk arrived.
func (t *MSRPFileTransfer) ResumedAt() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.resumedAt
}

// FileSelector describes the file (name, type, size, hash).
func (t *MSRPFileTransfer) FileSelector() sdp.FileSelector { return t.selector }

// media builds our m=message line.
func (t *MSRPFileTransfer) media(setup string) sdp.Media {
	u := t.ms.LocalURI()
	sel := t.selector
	x := sdp.MSRPMedia{Path: pathStrings(t.ms.Path()), AcceptTypes: []string{"*"}, Setup: setup, Secure: u.Secure,
		FileSelector: &sel, FileTransferID: t.id, FileDisposition: "attachment", FileOffset: true}
	dir := sdp.RecvOnly
	if t.sending {
		dir = sdp.SendOnly
	}
	return x.Media(u.Port, t.addr, dir)
}

// Offer returns the SDP offer of a file to send (sendonly).
func (t *MSRPFileTransfer) Offer() sdp.Media {
	t.mu.Lock()
	t.offered = true
	t.mu.Unlock()
	return t.media(sdp.OfferSetup())
}

// Answer returns the SDP answer (recvonly) to the offer the transfer was
// made from.
func (t *MSRPFileTransfer) Answer(remote sdp.Media) (sdp.Media, error) {
	x, err := sdp.ParseMSRP(remote)
	if err != nil {
		return sdp.Media{}, err
	}
	setup, active := sdp.AnswerSetup(x.Setup)
	t.mu.Lock()
	t.active = active
	t.mu.Unlock()
	return t.media(setup), nil
}

// Apply starts the transfer once offer and answer are known: the sender
// sends the file as soon as the MSRP connection is up.
func (t *MSRPFileTransfer) Apply(local, remote sdp.Media) error {
	path, active, ctx, err := t.start(remote, "file transfer")
	if errors.Is(err, errStarted) {
		return err
	}
	if err == nil && t.sending {
		if rm, _ := sdp.ParseMSRP(remote); rm.FileOffset {
			// The receiver may hold part of the file: once connected,
			// ask where to resume (FILE_OFFSET), then send from there.
			t.mu.Lock()
			t.askOffset = true
			t.mu.Unlock()
		} else if err = t.sendFrom(0); err != nil {
			t.cancel()
		}
	}
	t.wg.Add(1)
	go t.events()
	if err != nil {
		// MSRPFileTransferDidFail, and a file we send not delivered:
		// its session ends.
		t.fail(t, FileTransferDidFail, err)
		if t.sending {
			t.mgr.center.Post(FileTransferDidNotDeliverFile, t, FileData{Timestamp: now(), FileName: t.path,
				Size: t.selector.Size, Reason: err.Error()})
			t.outcome()
		}
		return err
	}
	t.connect(ctx, path, active, t, FileTransferDidFail)
	return nil
}

// fileOffsetMethod is python-sipsimple's (and Blink's) MSRP request that
// asks the receiver of a file how many octets of it it already has; the
// 200 answers in an Offset header. Both sides announce it with
// a=x-file-offset.
const fileOffsetMethod = "FILE_OFFSET"

// resume asks the receiver where to resume (FILE_OFFSET) and sends the
// file from there; any failure to learn the offset sends it whole.
func (t *MSRPFileTransfer) resume() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var off int64
	resp, err := t.ms.Request(ctx, fileOffsetMethod, nil)
	if err == nil && resp.StatusCode == msrp.StatusOK {
		v, _ := resp.Header("Offset")
		if n, perr := strconv.ParseInt(strings.TrimSpace(v), 10, 64); perr == nil && n > 0 && n < t.selector.Size {
			off = n
		}
	} else {
		t.mgr.log.Debug("file transfer: no resume offset, sending the whole file", "error", err)
	}
	if err := t.sendFrom(off); err != nil {
		t.mgr.center.Post(FileTransferDidNotDeliverFile, t, FileData{Timestamp: now(), FileName: t.path,
			Size: t.selector.Size, Reason: err.Error()})
		t.outcome()
	}
}

// sendFrom queues the file from octet off+1 (off octets are at the
// receiver already); it is sent once connected and closed when the MSRP
// session is done. Delivered means the receiver's success REPORT:
// through a relay a 200 only says the relay took a chunk.
func (t *MSRPFileTransfer) sendFrom(off int64) error {
	f, err := os.Open(t.path)
	if err != nil {
		return fmt.Errorf("file transfer: %w", err)
	}
	if off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			f.Close()
			return fmt.Errorf("file transfer: %w", err)
		}
		t.mgr.log.Debug("file transfer: resuming", "file", t.path, "offset", off)
		t.mu.Lock()
		t.resumedAt = off
		t.mu.Unlock()
	}
	if _, err := t.ms.Send(msrp.OutgoingMessage{ContentType: t.selector.Type, Reader: f, Size: t.selector.Size,
		Offset: off, ChunkSize: fileChunkSize, MessageID: t.id, SuccessReport: true,
		Headers: []msrp.Header{{Name: "Content-Disposition", Value: `attachment; filename="` + headerSafe(t.selector.Name) + `"`}}}); err != nil {
		f.Close()
		return fmt.Errorf("file transfer: %w", err)
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		<-t.ms.Done()
		f.Close()
	}()
	return nil
}

// partialName is where a received file is written until it is complete
// and checked: a hidden file named after the selector's SHA-1, so that
// the same file offered again resumes where an interrupted transfer
// stopped; "" without a hash (no resume: a file of its own per transfer).
func (t *MSRPFileTransfer) partialName() string {
	if t.selector.Hash == nil || len(t.selector.Hash.Value) == 0 {
		return ""
	}
	return filepath.Join(t.dir, ".sipsimple-"+hex.EncodeToString(t.selector.Hash.Value)+".part")
}

// partialSize is how many octets of the file an interrupted transfer
// left in the partial file: the FILE_OFFSET answer.
func (t *MSRPFileTransfer) partialSize() int64 {
	name := t.partialName()
	if name == "" {
		return 0
	}
	st, err := os.Stat(name)
	if err != nil || !st.Mode().IsRegular() || st.Size() >= t.selector.Size {
		return 0
	}
	return st.Size()
}

// onRequest answers FILE_OFFSET with what the partial file holds (0
// when another transfer of the same file is writing it).
func (t *MSRPFileTransfer) onRequest(req *msrp.Message) *msrp.Message {
	if t.sending || req.Method != fileOffsetMethod {
		return nil
	}
	off := int64(0)
	if name := t.partialName(); name != "" && !t.mgr.partialInUse(name) {
		if off = t.partialSize(); off > 0 {
			// Promised to the sender: not expired before its chunks come.
			now := time.Now()
			os.Chtimes(name, now, now)
		}
	}
	r := msrp.NewResponse(req, msrp.StatusOK, "")
	r.AddHeader("Offset", strconv.FormatInt(off, 10))
	return r
}

// claimPartial reserves the partial file name for one transfer; false
// when another transfer uses it.
func (m *Manager) claimPartial(name string) bool {
	m.chatMu.Lock()
	defer m.chatMu.Unlock()
	if m.partials[name] {
		return false
	}
	if m.partials == nil {
		m.partials = map[string]bool{}
	}
	m.partials[name] = true
	return true
}

func (m *Manager) releasePartial(name string) {
	m.chatMu.Lock()
	delete(m.partials, name)
	m.chatMu.Unlock()
}

func (m *Manager) partialInUse(name string) bool {
	m.chatMu.Lock()
	defer m.chatMu.Unlock()
	return m.partials[name]
}

// expirePartials removes the partial files in dir that no transfer
// uses and that were last written longer ago than the configured
// lifetime (MSRPConfig.PartialFileLifetime).
func (m *Manager) expirePartials(dir string) {
	life := m.cfg.Media.MSRP.partialFileLifetime()
	if life <= 0 {
		return
	}
	names, err := filepath.Glob(filepath.Join(dir, ".sipsimple-*.part"))
	if err != nil {
		return
	}
	cutoff := time.Now().Add(-life)
	for _, name := range names {
		st, err := os.Lstat(name)
		if err != nil || !st.Mode().IsRegular() || !st.ModTime().Before(cutoff) || m.partialInUse(name) {
			continue
		}
		if err := os.Remove(name); err == nil {
			m.log.Debug("file transfer: removed an expired partial file", "file", name, "modified", st.ModTime())
		}
	}
}

// dropPartial keeps the first keep octets of the partial file name when
// it can be resumed (named after the hash) and keep > 0, else removes it;
// and releases the name.
func (t *MSRPFileTransfer) dropPartial(name string, keep int64) {
	resumable := name == t.partialName()
	if !(resumable && keep > 0 && os.Truncate(name, keep) == nil) {
		os.Remove(name)
	}
	t.mgr.releasePartial(name)
}

// resumedFile is the partial file, whose first octets an interrupted
// transfer left (msrp.ResumedStorage).
type resumedFile struct {
	*os.File
	prefix int64
}

func (f resumedFile) StoredPrefix() int64 { return f.prefix }

// storage opens the file a received message goes into: the partial file
// (see partialName), resumed when an earlier transfer left part of it.
// The file gets its name in the directory once complete and checked.
func (t *MSRPFileTransfer) storage(first *msrp.Message) (io.WriterAt, error) {
	if t.selector.Size >= 0 && first.ByteRange.Total >= 0 && first.ByteRange.Total != t.selector.Size {
		return nil, &msrp.StatusError{Code: 413, Comment: "size differs from the file-selector"}
	}
	t.mu.Lock()
	busy := t.file != nil || t.saved != ""
	t.mu.Unlock()
	if busy {
		// One file per stream: a second message would leave the first
		// one's file behind (RFC 5547 sends one file per stream).
		return nil, &msrp.StatusError{Code: 403, Comment: "one file per file-transfer stream"}
	}
	if err := os.MkdirAll(t.dir, 0o700); err != nil {
		return nil, err
	}
	var f *os.File
	var err error
	prefix := int64(0)
	name := t.partialName()
	if name != "" && !t.mgr.claimPartial(name) {
		name = "" // another transfer of the same file writes it: no resume
	}
	if name == "" {
		f, err = os.CreateTemp(t.dir, ".sipsimple-*.part")
		if err == nil {
			name = f.Name()
			t.mgr.claimPartial(name) // kept from expirePartials
		}
	} else {
		prefix = t.partialSize()
		flags := os.O_RDWR | os.O_CREATE
		if prefix == 0 {
			flags |= os.O_TRUNC
		}
		if f, err = os.OpenFile(name, flags, 0o600); err != nil {
			t.mgr.releasePartial(name)
		}
	}
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	if t.ended {
		// End ran meanwhile (the connection's reader can still be in
		// a chunk of a session that closed): nothing will close f.
		t.mu.Unlock()
		f.Close()
		t.dropPartial(name, 0)
		return nil, errors.New("file transfer: the stream ended")
	}
	if t.file != nil || t.saved != "" { // a second message meanwhile (see above)
		t.mu.Unlock()
		f.Close()
		t.dropPartial(name, prefix)
		return nil, &msrp.StatusError{Code: 403, Comment: "one file per file-transfer stream"}
	}
	t.file, t.partial, t.resumedAt, t.msgID = f, name, prefix, first.MessageID
	t.mu.Unlock()
	if prefix > 0 {
		t.mgr.log.Debug("file transfer: resuming a partial file", "file", name, "have", prefix)
		return resumedFile{f, prefix}, nil
	}
	return f, nil
}

// createUnique creates name in dir, or "base (1).ext", "base (2).ext"...
// when it exists. The peer's name is made safe first: reduced to its
// base (nothing outside dir), without control characters, without
// leading dots (no hidden file, nothing our partial files could be taken
// for) and at most maxNameLen octets.
func createUnique(dir, name string) (*os.File, string, error) {
	name = safeFileName(name)
	ext := filepath.Ext(name)
	base := strings.TrimSuffix(name, ext)
	for i := 0; i < 1000; i++ {
		n := name
		if i > 0 {
			n = base + " (" + strconv.Itoa(i) + ")" + ext
		}
		p := filepath.Join(dir, n)
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			return f, p, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, "", err
		}
	}
	return nil, "", fmt.Errorf("no free name for %s in %s", name, dir)
}

// maxNameLen leaves room for " (999)" within the 255 octets most file
// systems allow in a name.
const maxNameLen = 240

// safeFileName is the name a received file is saved under (createUnique).
func safeFileName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	name = filepath.Base(filepath.Clean("/" + strings.ReplaceAll(name, "\\", "/")))
	name = strings.TrimLeft(name, ". ")
	if len(name) > maxNameLen {
		ext := filepath.Ext(name)
		if len(ext) > 16 {
			ext = ""
		}
		base := name[:maxNameLen-len(ext)]
		for !utf8.ValidString(base) { // not in the middle of a character
			base = base[:len(base)-1]
		}
		name = base + ext
	}
	if name == "" || name == "/" {
		name = "file"
	}
	return name
}

// events turns the MSRP session's events into notifications.
func (t *MSRPFileTransfer) events() {
	defer t.wg.Done()
	for ev := range t.ms.Events() {
		switch ev := ev.(type) {
		case msrp.Connected:
			t.mgr.center.Post(FileTransferDidStart, t, TimestampData{Timestamp: now()})
			t.mu.Lock()
			ask := t.askOffset
			t.askOffset = false
			t.mu.Unlock()
			if ask {
				t.wg.Add(1)
				go func() {
					defer t.wg.Done()
					t.resume()
				}()
			}
		case msrp.SendProgress:
			t.mgr.center.Post(FileTransferProgress, t, FileProgressData{Timestamp: now(), Transferred: ev.Sent, Total: ev.Total})
		case msrp.ReceiveProgress:
			t.mgr.center.Post(FileTransferProgress, t, FileProgressData{Timestamp: now(), Transferred: ev.Received, Total: ev.Total})
		case msrp.Delivered:
			t.mgr.center.Post(FileTransferDidDeliverFile, t, FileData{Timestamp: now(), FileName: t.path, Size: t.selector.Size})
			t.outcome()
		case msrp.NotDelivered:
			if ev.MessageID == t.id {
				t.mgr.center.Post(FileTransferDidNotDeliverFile, t, FileData{Timestamp: now(), FileName: t.path,
					Size: t.selector.Size, Code: ev.Code, Reason: ev.Reason})
				t.outcome()
			}
		case msrp.Closed:
			// A sender that never queued the file (waiting to connect
			// to ask FILE_OFFSET) still reports it not delivered.
			t.mu.Lock()
			pending := t.sending && t.askOffset
			t.askOffset = false
			t.mu.Unlock()
			if pending {
				reason := "the MSRP session ended before the file was sent"
				if ev.Err != nil {
					reason = ev.Err.Error()
				}
				t.mgr.center.Post(FileTransferDidNotDeliverFile, t, FileData{Timestamp: now(), FileName: t.path,
					Size: t.selector.Size, Reason: reason})
				t.outcome()
			}
		case msrp.Received:
			if t.current(ev.MessageID) {
				t.received(ev)
			}
		case msrp.ReceiveAborted:
			if !t.current(ev.MessageID) {
				continue
			}
			// What arrived without a gap stays, for a resumed transfer.
			t.closeFile(ev.Received)
			t.mgr.center.Post(FileTransferDidFail, t, ChatFailData{Timestamp: now(),
				Reason: fmt.Sprintf("incomplete file: %d of %d octets", ev.Received, ev.Total)})
		}
	}
}

// current reports whether id is the message the file is being received
// from.
func (t *MSRPFileTransfer) current(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.file != nil && t.msgID == id
}

// outcome calls onOutcome once.
func (t *MSRPFileTransfer) outcome() {
	t.mu.Lock()
	f := t.onOutcome
	t.onOutcome = nil
	t.mu.Unlock()
	if f != nil {
		f()
	}
}

// received checks a received file against the selector's size and hash:
// MSRPFileTransferGotFile, or MSRPFileTransferDidFail with the file
// removed.
func (t *MSRPFileTransfer) received(ev msrp.Received) {
	t.mu.Lock()
	f := t.file
	t.mu.Unlock()
	if f == nil {
		return // an in-memory message (not the file)
	}
	reason := ""
	if t.selector.Size >= 0 && ev.Size != t.selector.Size {
		reason = fmt.Sprintf("incomplete file: %d of %d octets", ev.Size, t.selector.Size)
	} else if t.selector.Hash != nil {
		h := sha1.New()
		if _, err := io.Copy(h, io.NewSectionReader(f, 0, ev.Size)); err != nil {
			reason = "reading the file back: " + err.Error()
		} else if !bytes.Equal(h.Sum(nil), t.selector.Hash.Value) {
			reason = "file hash mismatch"
		}
	}
	if reason != "" {
		t.closeFile(0)
		t.mgr.center.Post(FileTransferDidFail, t, ChatFailData{Timestamp: now(), Reason: reason})
		return
	}
	name, err := t.publish()
	if err != nil {
		t.mgr.center.Post(FileTransferDidFail, t, ChatFailData{Timestamp: now(), Reason: "saving the file: " + err.Error()})
		return
	}
	t.mgr.center.Post(FileTransferGotFile, t, FileData{Timestamp: now(), FileName: name, Size: ev.Size})
}

// publish closes the complete partial file and gives it its name in the
// directory: the selector's, or "name (1).ext"... when taken.
func (t *MSRPFileTransfer) publish() (string, error) {
	t.mu.Lock()
	f, partial := t.file, t.partial
	t.file = nil
	t.mu.Unlock()
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	var dst *os.File
	var name string
	if err == nil {
		// The placeholder reserves the name; the rename replaces it.
		dst, name, err = createUnique(t.dir, t.selector.Name)
	}
	if err == nil {
		dst.Close()
		if err = os.Rename(partial, name); err != nil {
			os.Remove(name)
		}
	}
	t.mgr.releasePartial(partial)
	if err != nil {
		os.Remove(partial)
		return "", err
	}
	t.mu.Lock()
	t.saved = name
	t.mu.Unlock()
	return name, nil
}

// closeFile closes the partial file of a transfer that did not
// complete: it keeps the first keep octets, to resume from, when the
// file can be resumed (it has a hash) and keep > 0; else it is removed.
func (t *MSRPFileTransfer) closeFile(keep int64) {
	t.mu.Lock()
	f, name := t.file, t.partial
	t.file = nil
	t.mu.Unlock()
	if f == nil {
		return
	}
	f.Close()
	t.dropPartial(name, keep)
}

// End ends the transfer (MSRPFileTransferWillEnd, DidEnd); a file still
// being received is removed. It is idempotent.
func (t *MSRPFileTransfer) End() {
	already, started := t.stop()
	if already {
		return
	}
	t.mgr.center.Post(FileTransferWillEnd, t, TimestampData{Timestamp: now()})
	t.ms.Close()
	if started {
		t.wg.Wait()
	} else {
		for range t.ms.Events() {
		}
	}
	t.closeFile(0) // incomplete: a complete file was closed already
	t.mgr.chatMu.Lock()
	delete(t.mgr.transfers, t)
	t.mgr.chatMu.Unlock()
	t.mgr.center.Post(FileTransferDidEnd, t, TimestampData{Timestamp: now()})
}

// headerSafe makes name fit in a quoted header parameter: control
// characters dropped, double quotes and backslashes replaced.
func headerSafe(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r < 0x20 || r == 0x7f:
			return -1
		case r == '"' || r == '\\':
			return '_'
		}
		return r
	}, name)
}
