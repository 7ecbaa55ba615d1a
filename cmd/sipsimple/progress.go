package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sipsimple-go/sipsimple/notification"
	"github.com/sipsimple-go/sipsimple/session"
)

// isTerminal reports whether w is a character device (a terminal): the
// progress of file transfers is then drawn as a bar on one line, which
// other lines clear; otherwise (a pipe, a file, the tests) each progress
// notification is a line like the others.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// newPrinter prints notifications on out, file-transfer progress as a
// bar when out is a terminal.
func newPrinter(out io.Writer, json bool) *printer {
	return &printer{out: out, json: json, bar: !json && isTerminal(out)}
}

// endProgress forgets the bar of a transfer that ended.
func (p *printer) endProgress(transfer any) {
	p.mu.Lock()
	delete(p.bars, transfer)
	p.mu.Unlock()
}

// barState is where a transfer's bar started, for its rate.
type barState struct {
	start time.Time
	base  int64
}

// progress prints a FileTransferProgress notification: a bar redrawn in
// place on a terminal, else a line.
func (p *printer) progress(n notification.Notification) {
	d, ok := notification.Data[session.FileProgressData](n)
	if !ok || p.json || !p.bar {
		n.Sender = "file"
		p.print(n)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bars == nil {
		p.bars = map[any]*barState{}
	}
	b := p.bars[n.Sender]
	if b == nil {
		b = &barState{start: n.Timestamp, base: d.Transferred}
		p.bars[n.Sender] = b
	}
	rate := 0.0
	if el := n.Timestamp.Sub(b.start).Seconds(); el > 0 {
		rate = float64(d.Transferred-b.base) / el
	}
	fmt.Fprint(p.out, "\r"+progressBar(d.Transferred, d.Total, rate, 30)+"\x1b[K")
	p.barShown = true
}

// clearBarLocked erases a bar before another line is printed.
func (p *printer) clearBarLocked() {
	if p.barShown {
		fmt.Fprint(p.out, "\r\x1b[K")
		p.barShown = false
	}
}

// progressBar renders "[#######.......]  45%  12.0 MiB / 26.7 MiB  95.1 MiB/s"
// (width characters of bar; an unknown total, -1, shows the octets only).
func progressBar(done, total int64, rate float64, width int) string {
	var b strings.Builder
	b.WriteByte('[')
	if total > 0 {
		filled := int(min(done, total) * int64(width) / total)
		b.WriteString(strings.Repeat("#", filled))
		b.WriteString(strings.Repeat(".", width-filled))
		fmt.Fprintf(&b, "] %3d%%  %s / %s", min(done, total)*100/total, humanBytes(done), humanBytes(total))
	} else {
		b.WriteString(strings.Repeat("?", width))
		fmt.Fprintf(&b, "]  %s", humanBytes(done))
	}
	if rate > 0 {
		fmt.Fprintf(&b, "  %s/s", humanBytes(int64(rate)))
	}
	return b.String()
}

// humanBytes formats n octets with a binary unit.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTP"[i])
}
