package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// userHZ is the unit of the CPU times in /proc/PID/stat: fixed at 100 a second on
// Linux, whatever the kernel's own tick.
const userHZ = 100

// procCPU returns the CPU time, user and system, all threads, that process pid has
// used so far (/proc/PID/stat), to 10 ms.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	d, err := statCPU(b)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return d, nil
}

// statCPU returns utime + stime of a /proc/PID/stat line.
func statCPU(b []byte) (time.Duration, error) {
	// The command name, field 2, is in parentheses and may hold spaces: count the
	// fields after its closing one. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("no command name")
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("%d fields", len(f)+2)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / userHZ), nil
}

// selfCPU returns the CPU time this process has used so far, user and system, to the
// microsecond.
func selfCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0 // Linux fills it for RUSAGE_SELF; 0 only makes the figure absent
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// roleCPU returns the CPU time used so far by the processes of role still running.
// A process that ended meanwhile is left out; the figure is for comparing rows, in
// which the broker and the workers run throughout.
func (f *fleet) roleCPU(role string) time.Duration {
	f.mu.Lock()
	all := append([]*child(nil), f.all...)
	f.mu.Unlock()
	var sum time.Duration
	for _, c := range all {
		if c.role != role || c.cmd.Process == nil {
			continue
		}
		select {
		case <-c.done:
			continue
		default:
		}
		if d, err := procCPU(c.cmd.Process.Pid); err == nil {
			sum += d
		}
	}
	return sum
}
