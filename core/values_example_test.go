package core_test

import (
	"errors"
	"fmt"

	"github.com/sipsimple-go/sipsimple/core"
)

func ExampleParseSIPURI() {
	u, err := core.ParseSIPURI("SIP:%61lice:secret@[2001:db8::10]:5070;transport=TCP;lr?subject=project%20x")
	if err != nil {
		panic(err)
	}
	fmt.Println(u.Scheme, u.User, u.Password, u.Host, u.Port)
	fmt.Println(u.Transport(), u.Parameters.Has("lr"), u.HostPort())
	fmt.Printf("%q\n", u.Headers[0].Value)
	fmt.Println(u)

	_, err = core.ParseSIPURI("sip:alice@2001:db8::10")
	fmt.Println(err)
	var pe *core.ParseError
	if errors.As(err, &pe) {
		fmt.Println(pe.Offset, pe.Reason)
	}
	// Output:
	// sip alice secret 2001:db8::10 5070
	// tcp true [2001:db8::10]:5070
	// "project x"
	// sip:alice:secret@[2001:db8::10]:5070;transport=TCP;lr?subject=project%20x
	// core: invalid SIP URI "sip:alice@2001:db8::10": IPv6 address not enclosed in "[" and "]" at offset 10
	// 10 IPv6 address not enclosed in "[" and "]"
}

func ExampleSIPURI_Equal() {
	eq := func(a, b string) {
		fmt.Println(core.MustParseSIPURI(a).Equal(core.MustParseSIPURI(b)), a, b)
	}
	eq("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp")
	eq("sip:carol@chicago.com", "sip:carol@chicago.com;security=on")
	eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060")
	eq("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp")
	eq("SIP:ALICE@AtLanTa.CoM", "sip:alice@atlanta.com")
	// Output:
	// true sip:%61lice@atlanta.com;transport=TCP sip:alice@AtLanTa.CoM;Transport=tcp
	// true sip:carol@chicago.com sip:carol@chicago.com;security=on
	// false sip:bob@biloxi.com sip:bob@biloxi.com:5060
	// false sip:bob@biloxi.com sip:bob@biloxi.com;transport=udp
	// false SIP:ALICE@AtLanTa.CoM sip:alice@atlanta.com
}

func ExampleSIPURI_String() {
	u := core.SIPURI{Scheme: "sip", User: "alice smith", Host: "2001:db8::1",
		Parameters: core.Parameters{{Name: "transport", Value: "tls"}}}
	fmt.Println(u)
	fmt.Println(u.Validate())
	// Output:
	// sip:alice%20smith@[2001:db8::1];transport=tls
	// <nil>
}

func ExampleParseNameAddr() {
	na, err := core.ParseNameAddr(`Alice <sip:alice@atlanta.com;transport=tcp> ;tag=1928301774`)
	if err != nil {
		panic(err)
	}
	tag, _ := na.Params.Get("tag")
	fmt.Println(na.DisplayName, na.URI, tag)
	fmt.Println(na)
	// Output:
	// Alice sip:alice@atlanta.com;transport=tcp 1928301774
	// "Alice" <sip:alice@atlanta.com;transport=tcp>;tag=1928301774
}

func ExampleParseRoute() {
	for _, s := range []string{"proxy.example.com", "192.0.2.1:5070;transport=tcp", "sips:[2001:db8::1];lr"} {
		r, err := core.ParseRoute(s)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s -> %s (URI %s)\n", s, r, r.URI())
	}
	// Output:
	// proxy.example.com -> proxy.example.com:5060;transport=udp (URI sip:proxy.example.com:5060;transport=udp;lr)
	// 192.0.2.1:5070;transport=tcp -> 192.0.2.1:5070;transport=tcp (URI sip:192.0.2.1:5070;transport=tcp;lr)
	// sips:[2001:db8::1];lr -> [2001:db8::1]:5061;transport=tls (URI sip:[2001:db8::1]:5061;transport=tls;lr)
}

func ExampleCredentials() {
	c := core.Credentials{Username: "alice", Password: "secret", Realm: "atlanta.com"}
	fmt.Println(c.Validate(), c.Matches("ATLANTA.COM"), c.Matches("biloxi.com"))
	fmt.Println(c)
	fmt.Printf("%#v\n", c)
	fmt.Println(core.Credentials{Username: "bob"}.Matches("biloxi.com"))
	// Output:
	// <nil> true false
	// Credentials(username="alice", realm="atlanta.com", password=***)
	// core.Credentials{DisplayName:"", Username:"alice", Password:"***", Realm:"atlanta.com"}
	// true
}
