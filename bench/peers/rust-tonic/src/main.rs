//! rust-tonic-extproc: the Rust peer of detour's benchmark (bench/README.md), the idealised lower
//! bound: tonic + the envoy-types crate, detour's outbound rule, request headers only.
//!
//!   rust-tonic-extproc -listen 127.0.0.1:0 -topology 'pricing=v1,v2;cart=v1,pr-7'
mod decision;

use decision::{decide, valid_service, valid_version, Topology};
use envoy_types::pb::envoy::config::core::v3::{HeaderValue, HeaderValueOption};
use envoy_types::pb::envoy::service::ext_proc::v3::external_processor_server::{ExternalProcessor, ExternalProcessorServer};
use envoy_types::pb::envoy::service::ext_proc::v3::{
    processing_request, processing_response, CommonResponse, HeaderMutation, HeadersResponse, HttpHeaders, ProcessingRequest,
    ProcessingResponse,
};
use envoy_types::pb::google::protobuf::BoolValue;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
use tonic::{Request, Response, Status, Streaming};

const DETOUR_HEADER: &str = "x-detour";
const ROUTE_HEADER: &str = "x-detour-route";

struct Processor {
    topology: Arc<Topology>,
}

fn request_headers(headers: &HttpHeaders, topology: &Topology) -> ProcessingResponse {
    let mut authority = String::new();
    let mut detour = Vec::new();
    let mut route_present = false;
    for hv in headers.headers.iter().flat_map(|m| m.headers.iter()) {
        // Envoy sends values in raw_value only (envoy#35388).
        match hv.key.as_str() {
            ":authority" => authority = String::from_utf8_lossy(&hv.raw_value).into_owned(),
            DETOUR_HEADER => detour.push(String::from_utf8_lossy(&hv.raw_value).into_owned()),
            ROUTE_HEADER => route_present = true,
            _ => {}
        }
    }
    let d = decide(&authority, &detour, route_present, topology);
    let mut common = CommonResponse::default();
    if d.route.is_some() || d.remove_route {
        let mut mutation = HeaderMutation::default();
        match d.route {
            // raw_value only and append=false: ext_proc ignores append_action and honours only
            // the deprecated append (envoy#36982), hence the allow.
            #[allow(deprecated)]
            Some(version) => mutation.set_headers.push(HeaderValueOption {
                header: Some(HeaderValue { key: ROUTE_HEADER.into(), raw_value: version.into_bytes(), ..Default::default() }),
                append: Some(BoolValue { value: false }),
                ..Default::default()
            }),
            None => mutation.remove_headers.push(ROUTE_HEADER.into()),
        }
        common.header_mutation = Some(mutation);
        // Only honoured together with a header mutation in the same response.
        common.clear_route_cache = true;
    }
    ProcessingResponse {
        response: Some(processing_response::Response::RequestHeaders(HeadersResponse { response: Some(common) })),
        ..Default::default()
    }
}

#[tonic::async_trait]
impl ExternalProcessor for Processor {
    type ProcessStream = ReceiverStream<Result<ProcessingResponse, Status>>;

    async fn process(&self, request: Request<Streaming<ProcessingRequest>>) -> Result<Response<Self::ProcessStream>, Status> {
        let mut inbound = request.into_inner();
        let (tx, rx) = mpsc::channel(4);
        let topology = self.topology.clone();
        tokio::spawn(async move {
            // Ends on EOF or when Envoy resets the stream (CANCELLED without graceful close).
            while let Ok(Some(message)) = inbound.message().await {
                let reply = match message.request {
                    Some(processing_request::Request::RequestHeaders(h)) => Ok(request_headers(&h, &topology)),
                    Some(processing_request::Request::ResponseHeaders(_)) => Ok(ProcessingResponse {
                        response: Some(processing_response::Response::ResponseHeaders(HeadersResponse::default())),
                        ..Default::default()
                    }),
                    _ => Err(Status::unimplemented("only header phases are configured")),
                };
                let stop = reply.is_err();
                if tx.send(reply).await.is_err() || stop {
                    break;
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

fn parse_topology(text: &str) -> Result<Topology, String> {
    let mut topology = Topology::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, list) = part.split_once('=').ok_or_else(|| format!("bad -topology entry '{part}': write svc=v1,v2"))?;
        if !valid_service(name) {
            return Err(format!("bad service in -topology entry '{part}'"));
        }
        let mut versions = std::collections::HashSet::new();
        for v in list.split(',') {
            if !valid_version(v) {
                return Err(format!("bad version '{v}' in -topology entry '{part}'"));
            }
            versions.insert(v.to_string());
        }
        topology.insert(name.to_string(), versions);
    }
    Ok(topology)
}

#[tokio::main]
async fn main() {
    let mut listen = "127.0.0.1:0".to_string();
    let mut topology_text = "pricing=v1,v2".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.trim_start_matches('-') {
            "listen" => listen = args.next().expect("-listen needs a value"),
            "topology" => topology_text = args.next().expect("-topology needs a value"),
            other => {
                eprintln!("rust-tonic-extproc: unknown flag -{other}; usage: -listen 127.0.0.1:0 -topology 'svc=v1,v2;...'");
                std::process::exit(2);
            }
        }
    }
    let topology = parse_topology(&topology_text).unwrap_or_else(|e| {
        eprintln!("rust-tonic-extproc: {e}");
        std::process::exit(2);
    });
    let listener = tokio::net::TcpListener::bind(&listen).await.unwrap_or_else(|e| {
        eprintln!("rust-tonic-extproc: {e}");
        std::process::exit(1);
    });
    // The harness reads this line to learn the port.
    println!("listening {}", listener.local_addr().expect("bound address"));
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    tonic::transport::Server::builder()
        .add_service(ExternalProcessorServer::new(Processor { topology: Arc::new(topology) }))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await
        .unwrap_or_else(|e| {
            eprintln!("rust-tonic-extproc: {e}");
            std::process::exit(1);
        });
}
