module github.com/sipsimple-go/sipsimple

go 1.24

require (
	github.com/google/uuid v1.6.0
	github.com/spf13/cobra v1.10.2
	go.uber.org/goleak v1.3.0
)

require (
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/spf13/pflag v1.0.9 // indirect
)
