package configuration_test

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/sipsimple-go/sipsimple/configuration"
	"github.com/sipsimple-go/sipsimple/notification"
)

// Example defines a settings object, changes two settings and saves it; the
// CFGSettingsObjectDidChange notification lists each change.
func Example() {
	center := notification.NewCenter()
	defer center.Close()
	m := configuration.NewManager(configuration.NewMemoryBackend(nil), center, nil)
	if err := m.Start(); err != nil {
		panic(err)
	}
	obj, _ := m.NewObject([]string{"Example"})
	sip := obj.Root().Group("sip")
	port := configuration.Define(sip, "port", configuration.Port, 5060)
	transports := configuration.Define[[]string](sip, "transport_list", configuration.TransportList, []string{"udp"})
	obj.Save() // the first save creates the object

	changed := center.Expect(configuration.SettingsObjectDidChange, obj)
	port.Set(5070)
	transports.Set([]string{"tls", "tcp"})
	if err := obj.Save(); err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, _ := changed.Wait(ctx)
	data, _ := notification.Data[configuration.SettingsObjectDidChangeData](n)
	var names []string
	for name := range data.Modified {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Printf("%s: %v -> %v\n", name, data.Modified[name].Old, data.Modified[name].New)
	}
	// Output:
	// sip.port: 5060 -> 5070
	// sip.transport_list: [udp] -> [tls tcp]
}

// ExampleNode_SetText sets a setting from text, as the command line does;
// the error names the setting, the value and the rule.
func ExampleNode_SetText() {
	m := configuration.NewManager(configuration.NewMemoryBackend(nil), nil, nil)
	m.Start()
	obj, _ := m.NewObject([]string{"Example"})
	configuration.Define(obj.Root().Group("rtp"), "port_range", configuration.PortRangeKind, configuration.PortRange{Start: 50000, End: 50500})
	n, _ := obj.Lookup("rtp.port_range")
	fmt.Println(n.SetText("600-500"))
	fmt.Println(n.SetText("40000-40100"), n.Text())
	// Output:
	// invalid value "600-500" for setting rtp.port_range: must satisfy 1 <= start <= end <= 65535
	// <nil> 40000-40100
}
