package session_test

import (
	"context"
	"crypto/sha1"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/sipsimple-go/sipsimple/notification"
	"github.com/sipsimple-go/sipsimple/sdp"
	"github.com/sipsimple-go/sipsimple/session"
)

// writeRandomFile writes size pseudo-random octets to path and returns
// their SHA-1.
func writeRandomFile(t *testing.T, path string, size int64, seed uint64) []byte {
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
func transferPair(t *testing.T, alice, bob *party, path, dir string) (send, recv *session.MSRPFileTransfer) {
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
	recv, err = bob.app.Sessions().NewIncomingFileTransfer("127.0.0.1", offer, dir)
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
	if err := send.Apply(offer, answer); err != nil {
		t.Fatal(err)
	}
	return send, recv
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
	recv, err := bob.app.Sessions().NewIncomingFileTransfer("127.0.0.1", forged, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer recv.End()
	answer, err := recv.Answer(forged)
	if err != nil {
		t.Fatal(err)
	}
	if err := recv.Apply(answer, forged); err != nil {
		t.Fatal(err)
	}
	if err := send.Apply(offer, answer); err != nil {
		t.Fatal(err)
	}
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
