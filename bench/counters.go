package bench

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// MemSample is a runtime.MemStats extract taken after runtime.GC.
type MemSample struct {
	HeapAlloc, HeapInuse, StackInuse uint64
	Goroutines                       int
}

func sampleMemory() MemSample {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return MemSample{HeapAlloc: ms.HeapAlloc, HeapInuse: ms.HeapInuse, StackInuse: ms.StackInuse,
		Goroutines: runtime.NumGoroutine()}
}

// Phase holds what the system counted during one phase of a run (the
// registration or the unregistration of every account).
type Phase struct {
	// Datagrams and Drops are the system's UDP datagrams received and
	// dropped for a full receive buffer (/proc/net/snmp InDatagrams,
	// RcvbufErrors): both directions of the loopback traffic. A drop
	// costs a retransmission 0.5 s, 1 s, 2 s... later.
	Datagrams, Drops uint64
	// KamailioDrops and EngineDrops split Drops by socket (/proc/net/udp).
	KamailioDrops, EngineDrops uint64
	// CPU time used by this process, by Kamailio and by everything else
	// (about zero when the machine was otherwise idle).
	SelfCPU, KamailioCPU, OtherCPU time.Duration
}

func (p Phase) String() string {
	return fmt.Sprintf("%d UDP datagrams, %d dropped (%d at Kamailio, %d at the Engine); CPU: this process %v, Kamailio %v, other %v",
		p.Datagrams, p.Drops, p.KamailioDrops, p.EngineDrops, p.SelfCPU.Round(10*time.Millisecond),
		p.KamailioCPU.Round(10*time.Millisecond), p.OtherCPU.Round(10*time.Millisecond))
}

// counters is a reading of the system counters a Phase is the difference of.
type counters struct {
	datagrams, drops, kamailioDrops, engineDrops uint64
	machineCPU, selfCPU, kamailioCPU             time.Duration
}

func readCounters(kamailioPort, enginePort int) counters {
	var c counters
	c.datagrams, c.drops = udpCounters()
	c.kamailioDrops, c.engineDrops = socketDrops(kamailioPort), socketDrops(enginePort)
	c.machineCPU, c.selfCPU, c.kamailioCPU = cpuCounters()
	return c
}

func (c counters) since(start counters) Phase {
	p := Phase{Datagrams: c.datagrams - start.datagrams, Drops: c.drops - start.drops,
		KamailioDrops: c.kamailioDrops - start.kamailioDrops, EngineDrops: c.engineDrops - start.engineDrops,
		SelfCPU: c.selfCPU - start.selfCPU, KamailioCPU: c.kamailioCPU - start.kamailioCPU}
	p.OtherCPU = max(0, c.machineCPU-start.machineCPU-p.SelfCPU-p.KamailioCPU)
	return p
}

// udpCounters returns the InDatagrams and RcvbufErrors counters of
// /proc/net/snmp (zeros where it cannot be read).
func udpCounters() (in, drops uint64) {
	data, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0, 0
	}
	var names []string
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = fields
			continue
		}
		for i, f := range fields {
			if i >= len(names) {
				break
			}
			n, _ := strconv.ParseUint(f, 10, 64)
			switch names[i] {
			case "InDatagrams":
				in = n
			case "RcvbufErrors":
				drops = n
			}
		}
	}
	return in, drops
}

// socketDrops returns the drops counter of the UDP socket bound to
// 127.0.0.1:port in /proc/net/udp (0 when not found).
func socketDrops(port int) uint64 {
	data, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return 0
	}
	local := fmt.Sprintf("0100007F:%04X", port)
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 13 && fields[1] == local {
			n, _ := strconv.ParseUint(fields[len(fields)-1], 10, 64)
			return n
		}
	}
	return 0
}

// cpuCounters returns the machine's busy CPU time (/proc/stat), this
// process's CPU time and that of our Kamailio: the processes named
// kamailio that are children of this process, and their children.
func cpuCounters() (machine, self, kamailio time.Duration) {
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	if data, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(data), "\n")
		// cpu user nice system idle iowait irq softirq steal ...
		for i, v := range strings.Fields(line) {
			if i == 0 || i == 4 || i == 5 || i > 8 {
				continue
			}
			n, _ := strconv.ParseInt(v, 10, 64)
			machine += time.Duration(n) * tick
		}
	}
	if data, err := os.ReadFile("/proc/self/stat"); err == nil {
		_, _, self = processCPU(string(data))
	}
	type proc struct {
		ppid int
		cpu  time.Duration
	}
	kamailios := map[int]proc{}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if data, err := os.ReadFile("/proc/" + d.Name() + "/stat"); err == nil {
			if name, ppid, cpu := processCPU(string(data)); name == "kamailio" {
				kamailios[pid] = proc{ppid, cpu}
			}
		}
	}
	me := os.Getpid()
	for _, p := range kamailios {
		if p.ppid == me || kamailios[p.ppid].ppid == me {
			kamailio += p.cpu
		}
	}
	return machine, self, kamailio
}

// processCPU returns the command name, the parent pid and the user+system
// CPU time of a /proc/PID/stat line.
func processCPU(stat string) (name string, ppid int, cpu time.Duration) {
	open, end := strings.IndexByte(stat, '('), strings.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return "", 0, 0
	}
	f := strings.Fields(stat[end+1:]) // state ppid pgrp ... utime (index 11) stime (12)
	if len(f) < 13 {
		return "", 0, 0
	}
	ppid, _ = strconv.Atoi(f[1])
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return stat[open+1 : end], ppid, time.Duration(u+s) * 10 * time.Millisecond
}
