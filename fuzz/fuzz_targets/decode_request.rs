//! Feeds arbitrary bytes to the broker's request path: framing, header and
//! body decoding, and (for requests that decode) building and encoding an
//! error response, exactly as a connection would. Any panic, abort or
//! runaway allocation is a bug.

#![no_main]

use bytes::{Bytes, BytesMut};
use chronik_protocol::alloc_guard::HugeAllocGuard;
use chronik_protocol::{decode_frame, decode_request, encode_response, error_response};
use libfuzzer_sys::fuzz_target;

// The broker runs with this allocator; fuzz what the broker runs.
#[global_allocator]
static ALLOCATOR: HugeAllocGuard = HugeAllocGuard;

fn exercise(frame: Bytes) {
    let Ok(request) = decode_request(frame) else {
        return;
    };
    if let Some(body) = error_response(&request.body, request.version(), 35) {
        let _ = encode_response(
            request.api_key,
            request.version(),
            request.correlation_id(),
            &body,
        );
    }
}

fuzz_target!(|data: &[u8]| {
    // The input as one frame body...
    exercise(Bytes::copy_from_slice(data));
    // ...and as a byte stream split into length-prefixed frames.
    let mut stream = BytesMut::from(data);
    while let Ok(Some(frame)) = decode_frame(&mut stream, 1 << 20) {
        exercise(frame);
    }
});
