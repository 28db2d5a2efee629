// Command go-extproc is the Go peer of detour's benchmark (bench/README.md): an Envoy ext_proc
// server with detour's outbound override rule, built on go-control-plane and grpc-go.
//
//	go-extproc -listen 127.0.0.1:50051 -topology 'pricing=v1,v2;cart=v1,pr-7'
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (loopback only)")
	topo := flag.String("topology", "pricing=v1,v2", "services and their versions: 'svc=v1,v2;svc2=v1'")
	flag.Parse()

	t, err := parseTopology(*topo)
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-extproc: %v\n", err)
		os.Exit(2)
	}
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-extproc: %v\n", err)
		os.Exit(1)
	}
	server := grpc.NewServer()
	extprocv3.RegisterExternalProcessorServer(server, &processor{topo: t})

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-signals
		server.Stop()
	}()
	// The harness reads this line to learn the port.
	fmt.Printf("listening %s\n", lis.Addr())
	if err := server.Serve(lis); err != nil {
		fmt.Fprintf(os.Stderr, "go-extproc: %v\n", err)
		os.Exit(1)
	}
}

func parseTopology(text string) (topology, error) {
	t := topology{}
	for _, part := range strings.Split(text, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, list, ok := strings.Cut(part, "=")
		if !ok || !validService(name) {
			return nil, fmt.Errorf("bad -topology entry %q: write svc=v1,v2", part)
		}
		versions := map[string]bool{}
		for _, v := range strings.Split(list, ",") {
			if !validVersion(v) {
				return nil, fmt.Errorf("bad version %q in -topology entry %q", v, part)
			}
			versions[v] = true
		}
		t[name] = versions
	}
	return t, nil
}
