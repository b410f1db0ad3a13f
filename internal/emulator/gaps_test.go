package emulator

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

func TestPutMetricDataTimestampsBecomeStrings(t *testing.T) {
	em, err := cbor.EncOptions{Time: cbor.TimeUnix, TimeTag: cbor.EncTagRequired}.EncMode()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := em.Marshal(map[string]any{"Namespace": "AWS/ApplicationELB", "MetricData": []any{map[string]any{"Timestamp": time.Unix(1767225900, 0), "Value": 1.5}}})
	if err != nil {
		t.Fatal(err)
	}
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	r, _ := http.NewRequest(http.MethodPost, "/service/GraniteServiceVersion20100801/operation/PutMetricData", nil)
	r.Header.Set("Content-Encoding", "gzip")
	out := fixRequest(r, "monitoring:PutMetricData", zipped.Bytes())
	var got struct {
		MetricData []struct {
			Timestamp string
			Value     float64
		}
	}
	if err := cbor.Unmarshal(out, &got); err != nil {
		t.Fatalf("the fixed body does not decode: %v", err)
	}
	if len(got.MetricData) != 1 || got.MetricData[0].Timestamp != "2026-01-01T00:05:00Z" || got.MetricData[0].Value != 1.5 {
		t.Errorf("fixed body %+v", got)
	}
	if r.Header.Get("Content-Encoding") != "" {
		t.Error("Content-Encoding still set on an inflated body")
	}
	// Other actions pass through untouched.
	if b := fixRequest(r, "monitoring:GetMetricData", []byte("x")); string(b) != "x" {
		t.Errorf("GetMetricData body changed to %q", b)
	}
}
