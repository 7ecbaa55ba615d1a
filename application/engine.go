package application

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/sipsimple-go/sipsimple/configuration"
	"github.com/sipsimple-go/sipsimple/configuration/settings"
	"github.com/sipsimple-go/sipsimple/core"
)

// engineSubsystem starts the SIP engine configured from the global settings.
type engineSubsystem struct {
	app    *Application
	listen string
}

func (s *engineSubsystem) Name() string { return "engine" }

func (s *engineSubsystem) Start(ctx context.Context) error {
	a := s.app
	cfg, err := engineConfig(a.Settings(), s.listen)
	if err != nil {
		return err
	}
	cfg.Logger = a.Logger()
	e := core.NewEngine(a.center, cfg)
	if err := e.Start(ctx); err != nil {
		return err
	}
	a.mu.Lock()
	a.engine = e
	a.mu.Unlock()
	return nil
}

func (s *engineSubsystem) Stop(ctx context.Context) error {
	e := s.app.Engine()
	if e == nil {
		return nil
	}
	return e.Stop(ctx)
}

// engineConfig maps the global settings (and an optional "HOST:PORT"
// override of the UDP and TCP listen address, TLS on PORT+1) onto the
// engine's configuration.
func engineConfig(s *settings.SIPSimpleSettings, listen string) (core.EngineConfig, error) {
	cfg := core.EngineConfig{
		UDPPort:   s.SIP.UDPPort.Get(),
		TCPPort:   s.SIP.TCPPort.Get(),
		TLSPort:   s.SIP.TLSPort.Get(),
		UserAgent: s.UserAgent.Get(),
		Trace:     s.Logs.TraceSIP.Get(),
	}
	if ip, ok := s.SIP.LocalIP.Get(); ok {
		cfg.LocalIP = ip
	}
	if listen != "" {
		host, port, err := net.SplitHostPort(listen)
		n, perr := strconv.Atoi(port)
		if err != nil || perr != nil || n < 0 || n > 65534 {
			return cfg, fmt.Errorf("listen address %q: want HOST:PORT with a port between 0 and 65534", listen)
		}
		cfg.LocalIP, cfg.UDPPort, cfg.TCPPort = host, n, n
		if n != 0 {
			cfg.TLSPort = n + 1
		}
	}
	if cfg.Trace {
		cfg.TraceFile = filepath.Join(configuration.ExpandPath(s.Logs.Directory.Get()), "sip_trace.txt")
	}
	tlsConf, err := tlsConfig(s)
	if err != nil {
		return cfg, err
	}
	cfg.TLSConfig = tlsConf
	return cfg, nil
}

// tlsConfig builds the TLS configuration from tls.certificate (a PEM file
// with the certificate chain and the private key), tls.ca_list and
// tls.verify_server.
func tlsConfig(s *settings.SIPSimpleSettings) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: !s.TLS.VerifyServer.Get()}
	if path, ok := s.TLS.Certificate.Get(); ok {
		path = configuration.ExpandPath(path)
		cert, err := tls.LoadX509KeyPair(path, path)
		if err != nil {
			return nil, fmt.Errorf("setting tls.certificate: %s: %w", path, err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	if path, ok := s.TLS.CAList.Get(); ok {
		path = configuration.ExpandPath(path)
		pem, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("setting tls.ca_list: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("setting tls.ca_list: %s: %w", path, errors.New("no PEM certificate found"))
		}
		conf.RootCAs = pool
	}
	return conf, nil
}
