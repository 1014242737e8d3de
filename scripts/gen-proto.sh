#!/bin/bash
# Regenerates the Swift messages for protos/*.proto (committed: CI never runs protoc).
# Needs protoc (apt-get install protobuf-compiler) and swift-protobuf's plugin at the version Package.resolved pins:
#   git clone --branch 1.39.0 https://github.com/apple/swift-protobuf /tmp/swpb
#   (cd /tmp/swpb && swift build -c release --product protoc-gen-swift)
set -euo pipefail
cd "$(dirname "$0")/.."
PLUGIN=${PROTOC_GEN_SWIFT:-/tmp/swpb/.build/release/protoc-gen-swift}
[ -x "$PLUGIN" ] || { echo "protoc-gen-swift not found at $PLUGIN: build it as the comment at the top of $0 says" >&2; exit 1; }
protoc --plugin=protoc-gen-swift="$PLUGIN" --swift_opt=Visibility=Internal \
  --swift_out=Sources/EtcdClient/RPC -I protos protos/*.proto
