//go:build !malgo

package audio

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestOpenDeviceWithoutMalgo(t *testing.T) {
	d, err := OpenDevice(DeviceConfig{})
	if !errors.Is(err, ErrNoSoundDevice) || d != nil {
		t.Fatalf("OpenDevice = %v, %v; want nil, ErrNoSoundDevice", d, err)
	}
	if want := "build with -tags malgo"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if _, err := ListDevices(); !errors.Is(err, ErrNoSoundDevice) {
		t.Fatalf("ListDevices error = %v, want ErrNoSoundDevice", err)
	}
	var sd SoundDevice
	if err := sd.Run(context.Background(), 20*time.Millisecond, func() {}); !errors.Is(err, ErrNoSoundDevice) {
		t.Fatalf("Run = %v", err)
	}
}
