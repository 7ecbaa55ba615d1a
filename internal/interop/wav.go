package interop

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"time"
)

// WriteToneWAV writes a 16-bit PCM WAV file of a sine tone of freq Hz at
// rate Hz, lasting d, with the same samples in each of channels channels,
// at amplitude amp (0 to 1 of full scale): an audio source for baresip's
// aufile module (BaresipConfig.AudioSource "aufile,path", with
// SourceSampleRate rate and SourceChannels channels).
func WriteToneWAV(path string, rate, channels int, freq float64, amp float64, d time.Duration) error {
	if rate <= 0 || channels <= 0 || amp < 0 || amp > 1 {
		return errors.New("interop: WriteToneWAV: bad format")
	}
	n := int(int64(rate) * int64(d) / int64(time.Second))
	data := make([]byte, 0, 44+n*channels*2)
	data = append(data, "RIFF"...)
	data = binary.LittleEndian.AppendUint32(data, uint32(36+n*channels*2))
	data = append(data, "WAVEfmt "...)
	data = binary.LittleEndian.AppendUint32(data, 16)
	data = binary.LittleEndian.AppendUint16(data, 1) // PCM
	data = binary.LittleEndian.AppendUint16(data, uint16(channels))
	data = binary.LittleEndian.AppendUint32(data, uint32(rate))
	data = binary.LittleEndian.AppendUint32(data, uint32(rate*channels*2))
	data = binary.LittleEndian.AppendUint16(data, uint16(channels*2))
	data = binary.LittleEndian.AppendUint16(data, 16)
	data = append(data, "data"...)
	data = binary.LittleEndian.AppendUint32(data, uint32(n*channels*2))
	for i := 0; i < n; i++ {
		v := int16(math.Round(amp * 32767 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
		for c := 0; c < channels; c++ {
			data = binary.LittleEndian.AppendUint16(data, uint16(v))
		}
	}
	return os.WriteFile(path, data, 0o644)
}
