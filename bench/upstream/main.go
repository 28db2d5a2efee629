// Command upstream is the fixed-cost HTTP server behind every benchmark scenario
// (bench/README.md): each named listener answers every request with 200 and a short
// text body naming it ("pricing@v2\n"), nothing else. Written in Go so that it costs little
// CPU and the same in every scenario; it shares the machine with the system under test.
//
//	upstream -serve pricing@v1=127.0.0.1:0 -serve pricing@v2=127.0.0.1:0
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

type serveFlags []string

func (s *serveFlags) String() string     { return strings.Join(*s, " ") }
func (s *serveFlags) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	var serve serveFlags
	flag.Var(&serve, "serve", "NAME=HOST:PORT, repeatable")
	flag.Parse()
	if len(serve) == 0 {
		fmt.Fprintln(os.Stderr, "usage: upstream -serve NAME=127.0.0.1:PORT [-serve ...]")
		os.Exit(2)
	}
	for _, spec := range serve {
		name, addr, ok := strings.Cut(spec, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "upstream: bad -serve %q: write NAME=HOST:PORT\n", spec)
			os.Exit(2)
		}
		lis, err := net.Listen("tcp", addr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "upstream: %v\n", err)
			os.Exit(1)
		}
		body := []byte(name + "\n")
		handler := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			h := w.Header()
			h["Content-Type"] = []string{"text/plain"}
			h["Content-Length"] = []string{fmt.Sprint(len(body))}
			w.Write(body)
		})
		// The harness reads these lines to learn the ports.
		fmt.Printf("listening %s %s\n", name, lis.Addr())
		go func() {
			if err := http.Serve(lis, handler); err != nil {
				fmt.Fprintf(os.Stderr, "upstream: %v\n", err)
				os.Exit(1)
			}
		}()
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	<-signals
}
