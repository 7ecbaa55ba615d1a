package session_test

import (
	"context"
	"crypto/sha1"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipsimple-go/sipsimple/msrp"
	"github.com/sipsimple-go/sipsimple/notification"
	"github.com/sipsimple-go/sipsimple/sdp"
	"github.com/sipsimple-go/sipsimple/session"
)

// writeRandomFile writes size pseudo-random octets to path and returns
// their SHA-1.
func writeRandomFile(t testing.TB, path string, size int64, seed uint64) []byte {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha1.New()
	src := rand.NewChaCha8([32]byte{byte(seed)})
	if _, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(src, size)); err != nil {
		t.Fatal(err)
	}
	return h.Sum(nil)
}

// transferPair negotiates a file transfer of path from alice to bob (into
// dir) as the SDP of a session would.
func transferPair(t testing.TB, alice, bob *party, path, dir string) (send, recv *session.MSRPFileTransfer) {
	t.Helper()
	send, err := alice.app.Sessions().NewFileTransfer("127.0.0.1", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(send.End)
	offer := send.Offer()
	if offer.Direction != sdp.SendOnly {
		t.Fatalf("offer direction %v", offer.Direction)
	}
	return send, negotiate(t, bob, send, offer, offer, dir)
}

// negotiate makes bob's side of send's offer (seen is the offer as bob
// gets it) into dir, and applies both sides.
func negotiate(t testing.TB, bob *party, send *session.MSRPFileTransfer, offer, seen sdp.Media, dir string) *session.MSRPFileTransfer {
	t.Helper()
	recv, err := bob.app.Sessions().NewIncomingFileTransfer("127.0.0.1", seen, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(recv.End)
	answer, err := recv.Answer(seen)
	if err != nil {
		t.Fatal(err)
	}
	if err := recv.Apply(answer, seen); err != nil {
		t.Fatal(err)
	}
	if err := send.Apply(offer, answer); err != nil {
		t.Fatal(err)
	}
	return recv
}

// A 100 MB file between two Applications: the file-selector carries name,
// size and SHA-1; the receiver saves it under its name in the directory,
// the hash matches, progress is reported, both sides end.
func TestFileTransfer(t *testing.T) {
	alice, bob := startParty(t, nil), startParty(t, nil)
	src := filepath.Join(t.TempDir(), "holiday video.bin")
	const size = 100 << 20
	sum := writeRandomFile(t, src, size, 1)
	dir := t.TempDir()
	send, recv := transferPair(t, alice, bob, src, dir)
	if sel := recv.FileSelector(); sel.Name != "holiday video.bin" || sel.Size != size || sel.Hash == nil ||
		string(sel.Hash.Value) != string(sum) {
		t.Fatalf("receiver's selector %+v", sel)
	}
	n := bob.rec.wait(t, session.FileTransferGotFile, recv)
	d, _ := notification.Data[session.FileData](n)
	if d.FileName != filepath.Join(dir, "holiday video.bin") || d.Size != size {
		t.Fatalf("got file %+v", d)
	}
	alice.rec.wait(t, session.FileTransferDidDeliverFile, send)
	if string(fileSHA1(t, d.FileName)) != string(sum) {
		t.Fatal("received file differs")
	}
	alice.rec.wait(t, session.FileTransferProgress, send)
	bob.rec.wait(t, session.FileTransferProgress, recv)

	// The same file again: saved under another name, nothing overwritten.
	send2, recv2 := transferPair(t, alice, bob, src, dir)
	n = bob.rec.wait(t, session.FileTransferGotFile, recv2)
	if d2, _ := notification.Data[session.FileData](n); d2.FileName != filepath.Join(dir, "holiday video (1).bin") {
		t.Fatalf("second copy saved as %q", d2.FileName)
	}
	alice.rec.wait(t, session.FileTransferDidDeliverFile, send2)
	for _, x := range []*session.MSRPFileTransfer{send, recv, send2, recv2} {
		x.End()
	}
	bob.rec.wait(t, session.FileTransferDidEnd, recv)
}

// A file whose content does not match the selector's hash is refused and
// removed; a name with a path cannot escape the directory.
func TestFileTransferHashMismatch(t *testing.T) {
	alice, bob := startParty(t, nil), startParty(t, nil)
	src := filepath.Join(t.TempDir(), "a.bin")
	writeRandomFile(t, src, 1<<20, 2)
	send, err := alice.app.Sessions().NewFileTransfer("127.0.0.1", src)
	if err != nil {
		t.Fatal(err)
	}
	defer send.End()
	offer := send.Offer()
	// The receiver is told another hash and a name that tries to leave
	// its directory.
	x, err := sdp.ParseMSRP(offer)
	if err != nil {
		t.Fatal(err)
	}
	x.FileSelector.Hash.Value[0] ^= 0xff
	x.FileSelector.Name = "../../etc/evil.bin"
	forged := x.Media(offer.Port, offer.Address, offer.Direction)
	dir := t.TempDir()
	recv := negotiate(t, bob, send, offer, forged, dir)
	n := bob.rec.wait(t, session.FileTransferDidFail, recv)
	if d, _ := notification.Data[session.ChatFailData](n); d.Reason != "file hash mismatch" {
		t.Fatalf("fail %+v", d)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("directory keeps %v", entries)
	}
	if _, err := os.Stat(filepath.Join(dir, "..", "..", "etc", "evil.bin")); err == nil {
		t.Error("the file escaped its directory")
	}
	if _, err := alice.app.Sessions().NewFileTransfer("127.0.0.1", filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("NewFileTransfer of a missing file succeeded")
	}
}

// SendFile: a session whose one stream sends a file; the callee sees the
// stream "file-transfer", accepts it into its downloads directory and
// gets the file;
// the caller's session ends once the file is delivered.
func TestSessionSendFile(t *testing.T) {
	dir := t.TempDir()
	alice, bob := startParty(t, nil), startParty(t, &session.MediaConfig{DownloadsDirectory: dir})
	dumpOnFailure(t, alice, bob)
	bob.app.Notifications().Observe(session.NewIncoming, nil, func(n notification.Notification) {
		if err := n.Sender.(*session.Session).Accept(true, true); err == nil {
			t.Error("Accept(audio, chat) took a file transfer")
		}
		if err := n.Sender.(*session.Session).AcceptFileTransfer(""); err != nil { // the downloads directory
			t.Errorf("accept file transfer: %v", err)
		}
	})
	src := filepath.Join(t.TempDir(), "notes.txt")
	sum := writeRandomFile(t, src, 3<<20, 3)
	s, err := alice.app.Sessions().NewSession(alice.local)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SendFile(context.Background(), bob.local.URI(), nil, src); err != nil {
		t.Fatal(err)
	}
	in := bob.rec.wait(t, session.NewIncoming, nil)
	bs := in.Sender.(*session.Session)
	if d, _ := notification.Data[session.StreamsData](in); len(d.Streams) != 1 || d.Streams[0] != "file-transfer" {
		t.Errorf("NewIncoming streams %v", d.Streams)
	}
	n := bob.rec.wait(t, session.FileTransferGotFile, nil)
	if n.Sender != any(bs.FileTransfer()) {
		t.Errorf("GotFile from %v, not from bob's session's transfer", n.Sender)
	}
	d, _ := notification.Data[session.FileData](n)
	if d.FileName != filepath.Join(dir, "notes.txt") || string(fileSHA1(t, d.FileName)) != string(sum) {
		t.Fatalf("got %+v", d)
	}
	alice.rec.wait(t, session.FileTransferDidDeliverFile, s.FileTransfer())
	alice.rec.wait(t, session.DidEnd, s)
	bob.rec.wait(t, session.DidEnd, bs)
}

// fileSHA1 returns the SHA-1 of the file at path.
func fileSHA1(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha1.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return h.Sum(nil)
}

// A transfer cut short is resumed: the source shrinks after its hash was
// taken, so the sender aborts the message midway ('#'); the receiver
// keeps what arrived in its partial file. Offered again (whole), the
// sender asks FILE_OFFSET, sends only the rest, and the receiver
// completes the file, hash checked, under its name.
func TestFileTransferResume(t *testing.T) {
	alice, bob := startParty(t, nil), startParty(t, nil)
	dumpOnFailure(t, alice, bob)
	src := filepath.Join(t.TempDir(), "resume.bin")
	const size, cut = 8 << 20, 3<<20 + 100
	sum := writeRandomFile(t, src, size, 9)
	full, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	send, err := alice.app.Sessions().NewFileTransfer("127.0.0.1", src)
	if err != nil {
		t.Fatal(err)
	}
	defer send.End()
	if err := os.Truncate(src, cut); err != nil { // after the hash: the sender runs short
		t.Fatal(err)
	}
	offer := send.Offer()
	if x, _ := sdp.ParseMSRP(offer); !x.FileOffset {
		t.Fatal("the offer has no a=x-file-offset")
	}
	recv := negotiate(t, bob, send, offer, offer, dir)
	bob.rec.wait(t, session.FileTransferDidFail, recv)
	alice.rec.wait(t, session.FileTransferDidNotDeliverFile, send)
	recv.End()
	send.End()
	partials, _ := filepath.Glob(filepath.Join(dir, ".sipsimple-*.part"))
	if len(partials) != 1 {
		t.Fatalf("partial files %v, want one", partials)
	}
	st, err := os.Stat(partials[0])
	if err != nil || st.Size() == 0 || st.Size() > cut {
		t.Fatalf("partial file: %v, %v (want 1..%d octets)", st, err, cut)
	}
	have := st.Size()

	if err := os.WriteFile(src, full, 0o600); err != nil {
		t.Fatal(err)
	}
	send2, recv2 := transferPair(t, alice, bob, src, dir)
	n := bob.rec.wait(t, session.FileTransferGotFile, recv2)
	d, _ := notification.Data[session.FileData](n)
	if d.FileName != filepath.Join(dir, "resume.bin") || d.Size != size || string(fileSHA1(t, d.FileName)) != string(sum) {
		t.Fatalf("got %+v", d)
	}
	alice.rec.wait(t, session.FileTransferDidDeliverFile, send2)
	if send2.ResumedAt() != have || recv2.ResumedAt() != have {
		t.Errorf("resumed at %d (sender) and %d (receiver), want %d", send2.ResumedAt(), recv2.ResumedAt(), have)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".sipsimple-*.part")); len(left) != 0 {
		t.Errorf("partial files left: %v", left)
	}
}

// Partial files older than MSRPConfig.PartialFileLifetime (7 days by
// default) are removed when a transfer into their directory starts;
// younger ones and other files stay.
func TestFileTransferExpiresOldPartials(t *testing.T) {
	alice, bob := startParty(t, nil), startParty(t, nil)
	dir := t.TempDir()
	old := time.Now().Add(-8 * 24 * time.Hour)
	files := map[string]bool{ // name: expected to stay
		".sipsimple-0123456789abcdef0123456789abcdef01234567.part": false,
		".sipsimple-4711.part": false,
		".sipsimple-89abcdef0123456789abcdef0123456789abcdef.part": true,
		"old photo.jpg": true,
	}
	for name, stays := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		if !stays || name == "old photo.jpg" {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		} else if err := os.Chtimes(p, old.Add(2*24*time.Hour), old.Add(2*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	src := filepath.Join(t.TempDir(), "new.bin")
	writeRandomFile(t, src, 1000, 3)
	send, recv := transferPair(t, alice, bob, src, dir)
	bob.rec.wait(t, session.FileTransferGotFile, recv)
	alice.rec.wait(t, session.FileTransferDidDeliverFile, send)
	for name, stays := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		if stays != (err == nil) {
			t.Errorf("%s: stat %v, want kept %v", name, err, stays)
		}
	}
}

// A file over TLS (msrps on both sides), checked by hash.
func TestFileTransferOverTLS(t *testing.T) {
	media := &session.MediaConfig{MSRP: session.MSRPConfig{TLS: selfSignedTLS(t)}}
	alice, bob := startParty(t, media), startParty(t, media)
	src := filepath.Join(t.TempDir(), "secret.bin")
	sum := writeRandomFile(t, src, 4<<20, 5)
	dir := t.TempDir()
	send, recv := transferPair(t, alice, bob, src, dir)
	if !send.LocalURI().Secure || !recv.LocalURI().Secure {
		t.Fatalf("local URIs %v %v, want msrps", send.LocalURI(), recv.LocalURI())
	}
	n := bob.rec.wait(t, session.FileTransferGotFile, recv)
	d, _ := notification.Data[session.FileData](n)
	if string(fileSHA1(t, d.FileName)) != string(sum) {
		t.Fatal("received file differs")
	}
	alice.rec.wait(t, session.FileTransferDidDeliverFile, send)
}

// BenchmarkFileTransfer: a 64 MiB file between two Applications through
// the file-transfer stream (partial file, SHA-1 check on receipt, the
// success REPORT), until MSRPFileTransferDidDeliverFile.
func BenchmarkFileTransfer(b *testing.B) {
	alice, bob := startParty(b, nil), startParty(b, nil)
	src := filepath.Join(b.TempDir(), "bench.bin")
	const size = 64 << 20
	writeRandomFile(b, src, size, 11)
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		send, recv := transferPair(b, alice, bob, src, b.TempDir())
		bob.rec.wait(b, session.FileTransferGotFile, recv)
		alice.rec.wait(b, session.FileTransferDidDeliverFile, send)
		send.End()
		recv.End()
	}
}

// A sender that waits to ask FILE_OFFSET still reports the file not
// delivered when its MSRP connection cannot be made (here the receiver's
// stream ended before: its listener answers the binding SEND 481).
func TestFileTransferSenderConnectFails(t *testing.T) {
	alice, bob := startParty(t, nil), startParty(t, nil)
	src := filepath.Join(t.TempDir(), "lost.bin")
	writeRandomFile(t, src, 1<<20, 3)
	send, err := alice.app.Sessions().NewFileTransfer("127.0.0.1", src)
	if err != nil {
		t.Fatal(err)
	}
	defer send.End()
	offer := send.Offer()
	recv, err := bob.app.Sessions().NewIncomingFileTransfer("127.0.0.1", offer, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	answer, err := recv.Answer(offer)
	if err != nil {
		t.Fatal(err)
	}
	recv.End()
	x, err := sdp.ParseMSRP(answer)
	if err != nil || !x.FileOffset {
		t.Fatalf("answer %+v, %v: want a=x-file-offset", x, err)
	}
	x.Setup = sdp.SetupPassive // alice connects
	if err := send.Apply(offer, x.Media(answer.Port, answer.Address, answer.Direction)); err != nil {
		t.Fatal(err)
	}
	n := alice.rec.wait(t, session.FileTransferDidNotDeliverFile, send)
	if d, _ := notification.Data[session.FileData](n); d.FileName != src {
		t.Errorf("DidNotDeliverFile %+v", d)
	}
}

// rawFileSender offers a file-selector to bob from a bare msrp.Session
// (active: it dials bob's stream), so that the test controls the MSRP
// messages sent; it returns the connected session and bob's transfer.
func rawFileSender(t *testing.T, bob *party, sel sdp.FileSelector, dir string) (*msrp.Session, *session.MSRPFileTransfer) {
	t.Helper()
	// The active side's port is not used to reach it: 9 (discard).
	raw, err := msrp.NewSession(msrp.SessionConfig{LocalURI: msrp.URI{Host: "127.0.0.1", Port: 9}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	offer := sdp.MSRPMedia{Path: []string{raw.LocalURI().String()}, AcceptTypes: []string{"*"},
		Setup: sdp.SetupActive, FileSelector: &sel}.Media(raw.LocalURI().Port, "127.0.0.1", sdp.SendOnly)
	recv, err := bob.app.Sessions().NewIncomingFileTransfer("127.0.0.1", offer, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(recv.End)
	answer, err := recv.Answer(offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := recv.Apply(answer, offer); err != nil {
		t.Fatal(err)
	}
	x, err := sdp.ParseMSRP(answer)
	if err != nil {
		t.Fatal(err)
	}
	path, err := msrp.ParsePath(strings.Join(x.Path, " "))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := raw.Connect(ctx, path); err != nil {
		t.Fatal(err)
	}
	return raw, recv
}

// nextOutcome returns the Delivered or NotDelivered event of message id.
func nextOutcome(t *testing.T, s *msrp.Session, id string) msrp.Event {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second) // a failure bound only
	defer deadline.Stop()
	for {
		select {
		case ev, ok := <-s.Events():
			if !ok {
				t.Fatalf("session closed before the outcome of %s", id)
			}
			switch ev := ev.(type) {
			case msrp.Delivered:
				if ev.MessageID == id {
					return ev
				}
			case msrp.NotDelivered:
				if ev.MessageID == id {
					return ev
				}
			}
		case <-deadline.C:
			t.Fatalf("no outcome of %s within 10s", id)
		}
	}
}

// A file-transfer stream receives one file: a second message on it is
// refused (403) and leaves nothing on disk.
func TestFileTransferOneFilePerStream(t *testing.T) {
	bob := startParty(t, nil)
	dir := t.TempDir()
	content := []byte("the one file")
	sum := sha1.Sum(content)
	sel := sdp.FileSelector{Name: "one.txt", Type: "text/plain", Size: int64(len(content)),
		Hash: &sdp.Hash{Algorithm: "sha-1", Value: sum[:]}}
	raw, recv := rawFileSender(t, bob, sel, dir)
	first, err := raw.Send(msrp.OutgoingMessage{ContentType: "text/plain", Body: content, SuccessReport: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := nextOutcome(t, raw, first).(msrp.Delivered); !ok {
		t.Fatal("the file was not delivered")
	}
	n := bob.rec.wait(t, session.FileTransferGotFile, recv)
	if d, _ := notification.Data[session.FileData](n); d.FileName != filepath.Join(dir, "one.txt") {
		t.Fatalf("got %+v", d)
	}
	second, err := raw.Send(msrp.OutgoingMessage{ContentType: "text/plain", Body: content})
	if err != nil {
		t.Fatal(err)
	}
	ev, ok := nextOutcome(t, raw, second).(msrp.NotDelivered)
	if !ok || ev.Code != 403 {
		t.Fatalf("second message: %+v, want not delivered with 403", ev)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "one.txt" {
		t.Fatalf("directory holds %v, want one.txt only", entries)
	}
}

// Offers the receiver cannot check or that exceed MSRPConfig.MaxFileSize
// are refused before anything is received.
func TestFileTransferRefusedOffers(t *testing.T) {
	bob := startParty(t, &session.MediaConfig{MSRP: session.MSRPConfig{MaxFileSize: 1000}})
	raw, err := msrp.NewSession(msrp.SessionConfig{LocalURI: msrp.URI{Host: "127.0.0.1", Port: 9}})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for name, sel := range map[string]sdp.FileSelector{
		"short hash": {Name: "a", Size: 10, Hash: &sdp.Hash{Algorithm: "sha-1", Value: []byte{1, 2, 3}}},
		"md5":        {Name: "a", Size: 10, Hash: &sdp.Hash{Algorithm: "md5", Value: make([]byte, 16)}},
		"too large":  {Name: "a", Size: 1001},
	} {
		offer := sdp.MSRPMedia{Path: []string{raw.LocalURI().String()}, AcceptTypes: []string{"*"},
			FileSelector: &sel}.Media(raw.LocalURI().Port, "127.0.0.1", sdp.SendOnly)
		if _, err := bob.app.Sessions().NewIncomingFileTransfer("127.0.0.1", offer, t.TempDir()); err == nil {
			t.Errorf("%s: offer accepted", name)
		}
	}
}

// A sender whose file is gone when the answer comes fails at once:
// MSRPFileTransferDidFail and DidNotDeliverFile (a SendFile session then
// ends).
func TestFileTransferSenderFileGone(t *testing.T) {
	alice, bob := startParty(t, nil), startParty(t, nil)
	src := filepath.Join(t.TempDir(), "gone.bin")
	writeRandomFile(t, src, 1000, 4)
	send, err := alice.app.Sessions().NewFileTransfer("127.0.0.1", src)
	if err != nil {
		t.Fatal(err)
	}
	defer send.End()
	offer := send.Offer()
	recv, err := bob.app.Sessions().NewIncomingFileTransfer("127.0.0.1", offer, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer recv.End()
	answer, err := recv.Answer(offer)
	if err != nil {
		t.Fatal(err)
	}
	// An answerer without python-sipsimple's resume: the sender opens
	// the file as soon as it has the answer.
	kept := answer.Attributes[:0:0]
	for _, a := range answer.Attributes {
		if a.Key != "x-file-offset" {
			kept = append(kept, a)
		}
	}
	answer.Attributes = kept
	if err := os.Remove(src); err != nil {
		t.Fatal(err)
	}
	if err := send.Apply(offer, answer); err == nil {
		t.Fatal("Apply succeeded without the file")
	}
	alice.rec.wait(t, session.FileTransferDidFail, send)
	n := alice.rec.wait(t, session.FileTransferDidNotDeliverFile, send)
	if d, _ := notification.Data[session.FileData](n); d.FileName != src || d.Reason == "" {
		t.Fatalf("not delivered: %+v", d)
	}
}

// A file with the right hash and a name that tries to leave the
// directory (and to be hidden) is saved inside it, under its base name.
func TestFileTransferNameStaysInDirectory(t *testing.T) {
	alice, bob := startParty(t, nil), startParty(t, nil)
	src := filepath.Join(t.TempDir(), "a.bin")
	sum := writeRandomFile(t, src, 4096, 6)
	send, err := alice.app.Sessions().NewFileTransfer("127.0.0.1", src)
	if err != nil {
		t.Fatal(err)
	}
	defer send.End()
	offer := send.Offer()
	x, err := sdp.ParseMSRP(offer)
	if err != nil {
		t.Fatal(err)
	}
	x.FileSelector.Name = "../../etc/.evil.bin"
	forged := x.Media(offer.Port, offer.Address, offer.Direction)
	dir := filepath.Join(t.TempDir(), "a", "b")
	recv := negotiate(t, bob, send, offer, forged, dir)
	n := bob.rec.wait(t, session.FileTransferGotFile, recv)
	d, _ := notification.Data[session.FileData](n)
	if d.FileName != filepath.Join(dir, "evil.bin") || string(fileSHA1(t, d.FileName)) != string(sum) {
		t.Fatalf("saved as %q", d.FileName)
	}
	if _, err := os.Stat(filepath.Join(dir, "..", "..", "etc", ".evil.bin")); err == nil {
		t.Error("the file escaped its directory")
	}
}
