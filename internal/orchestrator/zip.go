package orchestrator

import (
	"archive/zip"
	"bytes"
	"os"
)

// ZipBootstrap writes the zip the orchestrator's function is deployed
// from, as the release ships it: one executable file, bootstrap (the
// provided.al2023 runtime's entry point), holding the binary bin.
func ZipBootstrap(bin, to string) error {
	b, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(to, buf.Bytes(), 0o644)
}
