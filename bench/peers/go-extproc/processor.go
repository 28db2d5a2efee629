package main

import (
	"errors"
	"io"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// processor implements envoy.service.ext_proc.v3.ExternalProcessor with the same one-phase
// protocol detour uses: request headers only, one answer per message.
type processor struct {
	extprocv3.UnimplementedExternalProcessorServer
	topo topology
}

func (p *processor) Process(stream extprocv3.ExternalProcessor_ProcessServer) error {
	for {
		req, err := stream.Recv()
		if err != nil {
			// Envoy ends a finished stream with RST_STREAM (CANCELLED) unless graceful close is on.
			if errors.Is(err, io.EOF) || status.Code(err) == codes.Canceled {
				return nil
			}
			return err
		}
		var resp *extprocv3.ProcessingResponse
		switch r := req.Request.(type) {
		case *extprocv3.ProcessingRequest_RequestHeaders:
			resp = p.requestHeaders(r.RequestHeaders)
		case *extprocv3.ProcessingRequest_ResponseHeaders:
			resp = &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseHeaders{ResponseHeaders: &extprocv3.HeadersResponse{}}}
		default:
			return status.Errorf(codes.Unimplemented, "only header phases are configured")
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}

func (p *processor) requestHeaders(h *extprocv3.HttpHeaders) *extprocv3.ProcessingResponse {
	var authority string
	var detour []string
	routePresent := false
	for _, hv := range h.GetHeaders().GetHeaders() {
		// Envoy sends values in raw_value only (envoy#35388).
		switch hv.Key {
		case authorityHeader:
			authority = string(hv.RawValue)
		case detourHeader:
			detour = append(detour, string(hv.RawValue))
		case routeHeader:
			routePresent = true
		}
	}
	d := decide(authority, detour, routePresent, p.topo)
	common := &extprocv3.CommonResponse{}
	if d.changes() {
		mutation := &extprocv3.HeaderMutation{}
		if d.route != "" {
			// raw_value only, and append=false (append_action is ignored by ext_proc, envoy#36982).
			mutation.SetHeaders = []*corev3.HeaderValueOption{{
				Header: &corev3.HeaderValue{Key: routeHeader, RawValue: []byte(d.route)},
				Append: wrapperspb.Bool(false),
			}}
		} else {
			mutation.RemoveHeaders = []string{routeHeader}
		}
		common.HeaderMutation = mutation
		// Only honoured together with a header mutation in the same response.
		common.ClearRouteCache = true
	}
	return &extprocv3.ProcessingResponse{
		Response: &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: &extprocv3.HeadersResponse{Response: common}},
	}
}
