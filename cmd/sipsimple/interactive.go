package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sipsimple-go/sipsimple/session"
)

// interactiveHelp documents the commands of the interactive mode, in the
// --help of call and listen.
const interactiveHelp = `Interactive mode: when stdin is a terminal (or with --interactive; turn it
off with --interactive=false), commands are read from stdin, one per line
(type it, then Enter); they act on the current call:
  h            hold / unhold
  0-9 * # A-D  send these DTMF digits (e.g. "123#")
  r            start / stop recording (default file name)
  a            answer the incoming call (listen)
  x            reject the incoming call (603 Decline); b: busy (486 Busy Here)
  q            hang up (listen with no call: quit)
  i            show the call's state, codec and RTP statistics
  ?            this help
Messages of the interactive mode go to stderr; stdout carries the notifications.`

// addInteractiveFlag adds --interactive to cmd.
func addInteractiveFlag(cmd *cobra.Command) *bool {
	v := new(bool)
	cmd.Flags().BoolVar(v, "interactive", false, "read commands from stdin (default: when stdin is a terminal)")
	return v
}

// interactive decides whether commands are read from stdin: --interactive
// when given, else whether stdin is a terminal.
func interactive(cmd *cobra.Command, flag bool) bool {
	if cmd.Flags().Changed("interactive") {
		return flag
	}
	return stdinIsTerminal()
}

// stdinIsTerminal reports whether stdin is a terminal: a character device
// other than /dev/null (without a terminal library, the closest portable
// test).
func stdinIsTerminal() bool {
	fi, err := os.Stdin.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return false
	}
	return true
}

// readCommands sends the lines of r, trimmed, until EOF (then the channel
// is closed). The goroutine ends at EOF; on a terminal it may outlive the
// command, which is harmless as the process exits.
func readCommands(r io.Reader) <-chan string {
	ch := make(chan string)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); line != "" {
				ch <- line
			}
		}
	}()
	return ch
}

// command carries out one interactive command; it reports whether the
// command asks to quit (q without a call).
func (ph *phone) command(line string) (quit bool) {
	out := ph.errOut
	if line == "?" || line == "help" {
		fmt.Fprintln(out, interactiveHelp)
		return false
	}
	c := ph.currentCall()
	if c == nil {
		if line == "q" {
			return true
		}
		fmt.Fprintf(out, "%q: there is no call ('?' lists the commands)\n", line)
		return false
	}
	s := c.s
	var err error
	switch line {
	case "h":
		if s.OnHoldByLocal() {
			err = s.Unhold()
		} else {
			err = s.Hold()
		}
	case "r":
		if s.AudioRecordingFileName() != "" {
			if err = s.StopRecordingAudio(); err == nil {
				ph.setRecording(c, "")
			}
		} else if err = s.StartRecordingAudio(""); err == nil {
			ph.setRecording(c, s.AudioRecordingFileName())
		}
	case "a":
		err = s.Accept(true, true) // chat too, when offered
	case "x", "b":
		err = s.Reject(line == "b")
	case "q":
		err = s.End(false)
	case "i":
		ph.describeCall(c)
	default:
		for _, d := range line {
			if !isDTMF(d) {
				fmt.Fprintf(out, "%q: unknown command ('?' lists the commands)\n", line)
				return false
			}
		}
		for _, d := range line {
			if err = s.SendDTMF(d); err != nil {
				break
			}
		}
	}
	if err != nil {
		fmt.Fprintf(out, "%s: %s: %v\n", c.label, line, err)
	}
	return false
}

// describeCall prints the state, audio and statistics of c to stderr.
func (ph *phone) describeCall(c *call) {
	s := c.s
	out := ph.errOut
	fmt.Fprintf(out, "%s: %s %s, caller %s, callee %s", c.label, s.Direction(), s.State(), s.CallerURI(), s.CalleeURI())
	if s.OnHold() {
		fmt.Fprintf(out, ", on hold (local %v, remote %v)", s.OnHoldByLocal(), s.OnHoldByRemote())
	}
	fmt.Fprintln(out)
	if s.State() != session.StateEstablished || s.Audio() == nil {
		return
	}
	st := s.Audio().Stats()
	fmt.Fprintf(out, "  audio %s/%d Hz, SRTP %v, local %s, remote %s; sent %d packets, received %d, lost %d, jitter %v\n",
		s.AudioCodec(), s.AudioSampleRate(), onOff(s.AudioSRTPActive()),
		hostPort(s.AudioLocalRTPAddress(), s.AudioLocalRTPPort()),
		hostPort(s.AudioRemoteRTPAddressReceived(), s.AudioRemoteRTPPortReceived()),
		st.PacketsSent, st.PacketsReceived, st.PacketsLost, st.Jitter)
	if f := s.AudioRecordingFileName(); f != "" {
		fmt.Fprintf(out, "  recording to %s\n", f)
	}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
