package emulator

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// Gap fillers: each rewrites one kind of request that kumo cannot read into
// the form it can, without changing its meaning. They exist for the tests'
// fixtures and are listed in DESIGN.md.

// fixRequest returns the body to forward for an action, and fixes the
// request's headers to match.
func fixRequest(r *http.Request, action string, body []byte) []byte {
	switch action {
	case "monitoring:PutMetricData":
		// The SDK gzips PutMetricData (the operation's request compression
		// trait); kumo does not inflate request bodies.
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				return body
			}
			plain, err := io.ReadAll(zr)
			if err != nil {
				return body
			}
			r.Header.Del("Content-Encoding")
			body = plain
		}
		return cborTimesAsStrings(body)
	}
	return body
}

// cborTimesAsStrings rewrites the CBOR timestamps (tag 1, epoch seconds) of a
// request as RFC 3339 strings. CloudWatch's RPCv2 CBOR protocol sends
// MetricDatum.Timestamp as a tag-1 timestamp; kumo decodes it into a string
// field and fails with "Failed to parse request body". Bodies it cannot
// decode are forwarded as they are.
func cborTimesAsStrings(body []byte) []byte {
	dm, err := cbor.DecOptions{DefaultMapType: mapType}.DecMode()
	if err != nil {
		return body
	}
	var v any
	if err := dm.Unmarshal(body, &v); err != nil {
		return body
	}
	out, err := cbor.Marshal(timesToStrings(v))
	if err != nil {
		return body
	}
	return out
}

func timesToStrings(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case map[string]any:
		for k, e := range x {
			x[k] = timesToStrings(e)
		}
	case []any:
		for i, e := range x {
			x[i] = timesToStrings(e)
		}
	}
	return v
}
