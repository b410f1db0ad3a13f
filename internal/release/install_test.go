// Package release_test proves that a release build installs the way users
// install providers: `init` from a registry over HTTPS, checked against
// SHA256SUMS and its signature, recorded in the lock file, and from a
// filesystem mirror. `make test-release` builds the release (this platform,
// a throwaway key) and runs it.
package release_test

import (
	"archive/zip"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// release is the build under test.
type release struct {
	dist, version, keys string
	zip                 string // this platform's zip, by name
	sums, sig           string // file names in dist
}

func load(t *testing.T) release {
	t.Helper()
	dist := os.Getenv("ROLLOUT_RELEASE_DIST")
	if dist == "" {
		t.Skip("run by make test-release, which builds the release this test installs")
	}
	r := release{dist: dist, version: os.Getenv("ROLLOUT_RELEASE_VERSION"), keys: os.Getenv("ROLLOUT_RELEASE_KEYS")}
	r.zip = fmt.Sprintf("terraform-provider-rollout_%s_%s_%s.zip", r.version, runtime.GOOS, runtime.GOARCH)
	r.sums = fmt.Sprintf("terraform-provider-rollout_%s_SHA256SUMS", r.version)
	r.sig = r.sums + ".sig"
	for _, f := range []string{r.zip, r.sums, r.sig, fmt.Sprintf("terraform-provider-rollout_%s_manifest.json", r.version)} {
		if _, err := os.Stat(filepath.Join(dist, f)); err != nil {
			t.Fatalf("the release lacks %s: %v", f, err)
		}
	}
	return r
}

func (r release) read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dist, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (r release) key(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.keys, name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// registry serves the provider registry protocol under three prefixes:
// /good/ serves the release as built, /tampered/ a zip with one byte
// changed, /badsig/ SHA256SUMS signed by another key.
func registry(t *testing.T, r release) (*httptest.Server, string) {
	t.Helper()
	zip := r.read(t, r.zip)
	tampered := append([]byte(nil), zip...)
	tampered[len(tampered)/2] ^= 0xff
	sum := sha256.Sum256(zip)
	impostor, err := os.ReadFile(filepath.Join(r.keys, "impostor.sig"))
	if err != nil {
		t.Fatal(err)
	}
	var srv *httptest.Server
	mux := http.NewServeMux()
	for _, mode := range []string{"good", "tampered", "badsig"} {
		base := "/" + mode + "/v1/providers/rolloutdev/rollout/"
		mux.HandleFunc("GET "+base+"versions", func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, map[string]any{"versions": []any{map[string]any{
				"version": r.version, "protocols": []string{"6.0"},
				"platforms": []any{map[string]string{"os": runtime.GOOS, "arch": runtime.GOARCH}},
			}}})
		})
		mux.HandleFunc("GET "+base+r.version+"/download/"+runtime.GOOS+"/"+runtime.GOARCH, func(w http.ResponseWriter, _ *http.Request) {
			files := srv.URL + "/" + mode + "/files/"
			writeJSON(w, map[string]any{
				"protocols": []string{"6.0"}, "os": runtime.GOOS, "arch": runtime.GOARCH,
				"filename": r.zip, "download_url": files + r.zip,
				"shasums_url": files + r.sums, "shasums_signature_url": files + r.sig,
				"shasum": hex.EncodeToString(sum[:]),
				"signing_keys": map[string]any{"gpg_public_keys": []any{map[string]any{
					"key_id": r.key(t, "key-id"), "ascii_armor": r.key(t, "public.asc"),
					"trust_signature": "", "source": "rolloutdev", "source_url": nil,
				}}},
			})
		})
		mux.HandleFunc("GET /"+mode+"/files/{name}", func(w http.ResponseWriter, req *http.Request) {
			name := req.PathValue("name")
			switch {
			case mode == "tampered" && name == r.zip:
				_, _ = w.Write(tampered)
			case mode == "badsig" && name == r.sig:
				_, _ = w.Write(impostor)
			default:
				_, _ = w.Write(r.read(t, name))
			}
		})
	}
	srv = httptest.NewUnstartedServer(mux)
	ca, cert := certificates(t)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca, 0o644); err != nil {
		t.Fatal(err)
	}
	return srv, caFile
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// certificates makes a test CA and a certificate it signed for 127.0.0.1;
// the engines trust the CA through SSL_CERT_FILE.
func certificates(t *testing.T) ([]byte, tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rollout release test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// engine is one of the two, with the registry host a bare source address
// (rolloutdev/rollout) means to it.
type engine struct{ name, bin, host string }

func engines(t *testing.T) []engine {
	t.Helper()
	var out []engine
	for _, e := range []engine{{name: "tofu", bin: os.Getenv("ROLLOUT_TOFU")}, {name: "terraform", bin: os.Getenv("ROLLOUT_TERRAFORM")}} {
		if e.bin == "" {
			t.Fatalf("ROLLOUT_TOFU and ROLLOUT_TERRAFORM must name the engines")
		}
		// `providers` reads the configuration only: it says which host the
		// engine would ask, without asking it.
		dir := t.TempDir()
		writeFile(t, dir, "main.tf", "terraform {\n  required_providers {\n    rollout = { source = \"rolloutdev/rollout\" }\n  }\n}\n")
		out1, err := run(dir, e.bin, nil, "providers")
		if err != nil {
			t.Fatalf("%s providers: %v\n%s", e.name, err, out1)
		}
		m := regexp.MustCompile(`provider\[([^/\]]+)/rolloutdev/rollout\]`).FindStringSubmatch(out1)
		if m == nil {
			t.Fatalf("%s providers did not name the provider's host:\n%s", e.name, out1)
		}
		e.host = m[1]
		out = append(out, e)
	}
	return out
}

func writeFile(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func run(dir, bin string, env []string, args ...string) (string, error) {
	if len(args) > 0 && args[0] != "providers" {
		args = append(args, "-no-color")
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_CLI_CONFIG_FILE="+os.DevNull,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull), env...)
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err := cmd.Run()
	return b.String(), err
}

// config is a traffic split at 60/40 on the emulator, requiring the release.
func config(r release, e *acctest.Env, listener string, tgs []string) string {
	return fmt.Sprintf(`terraform {
  required_providers {
    rollout = { source = "rolloutdev/rollout", version = %q }
  }
}
provider "rollout" {
  region    = "us-east-1"
  endpoints = { elbv2 = %q, cloudwatch = %q }
}
resource "rollout_traffic_split" "api" {
  listener_arn  = %q
  target_groups = [{ arn = %q, weight = 60 }, { arn = %q, weight = 40 }]
}
`, r.version, e.Emu.URL, e.Emu.URL, listener, tgs[0], tgs[1])
}

// TestInitFromRegistry: real `init` from a registry over HTTPS with the
// engines' CLI configuration overriding discovery of the provider's usual
// host (so the source address stays rolloutdev/rollout), then an apply
// against the emulator; a tampered zip and a bad signature fail init.
func TestInitFromRegistry(t *testing.T) {
	r := load(t)
	srv, caFile := registry(t, r)
	sums := string(r.read(t, r.sums))
	for _, eng := range engines(t) {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			e := acctest.NewEnv(t)
			f := e.NewFixture(2)
			cli := func(mode string) []string {
				rc := filepath.Join(t.TempDir(), "cli.tfrc")
				writeFile(t, filepath.Dir(rc), "cli.tfrc", fmt.Sprintf("host %q {\n  services = {\n    \"providers.v1\" = %q\n  }\n}\nprovider_installation {\n  direct {}\n}\n",
					eng.host, srv.URL+"/"+mode+"/v1/providers/"))
				return []string{"TF_CLI_CONFIG_FILE=" + rc, "SSL_CERT_FILE=" + caFile, "TF_PLUGIN_CACHE_DIR="}
			}
			t.Run("good", func(t *testing.T) {
				dir := t.TempDir()
				writeFile(t, dir, "main.tf", config(r, e, f.Listener, f.TGs))
				if out, err := run(dir, eng.bin, cli("good"), "init", "-input=false"); err != nil {
					t.Fatalf("init: %v\n%s", err, out)
				}
				lock, err := os.ReadFile(filepath.Join(dir, ".terraform.lock.hcl"))
				if err != nil {
					t.Fatal(err)
				}
				zipSum := ""
				for _, line := range strings.Split(sums, "\n") {
					if strings.HasSuffix(line, "  "+r.zip) {
						zipSum = strings.Fields(line)[0]
					}
				}
				for _, want := range []string{fmt.Sprintf("provider %q", eng.host+"/rolloutdev/rollout"), fmt.Sprintf("version     = %q", r.version), `"h1:`, `"zh:` + zipSum + `"`} {
					if zipSum == "" || !strings.Contains(string(lock), want) {
						t.Fatalf("the lock file lacks %s:\n%s", want, lock)
					}
				}
				if out, err := run(dir, eng.bin, cli("good"), "apply", "-auto-approve", "-input=false"); err != nil {
					t.Fatalf("apply: %v\n%s", err, out)
				}
				got, _ := e.Forward(awsclient.Ref{ListenerARN: f.Listener})
				if want := (weights.Split{{ARN: f.TGs[0], Weight: 60}, {ARN: f.TGs[1], Weight: 40}}); !got.Split.Equal(want) {
					t.Fatalf("the emulator's listener forwards %v, want %v", got.Split, want)
				}
			})
			for _, c := range []struct{ mode, want string }{
				{"tampered", `archive has incorrect\s+checksum`},
				{"badsig", `signature\s+from unknown issuer`},
			} {
				t.Run(c.mode, func(t *testing.T) {
					dir := t.TempDir()
					writeFile(t, dir, "main.tf", config(r, e, f.Listener, f.TGs))
					out, err := run(dir, eng.bin, cli(c.mode), "init", "-input=false")
					if err == nil {
						t.Fatalf("init succeeded with a %s release:\n%s", c.mode, out)
					}
					if !regexp.MustCompile(c.want).MatchString(out) {
						t.Fatalf("init failed without saying why (%s):\n%s", c.want, out)
					}
					t.Logf("init refused the %s release:\n%s", c.mode, out)
					if _, err := os.Stat(filepath.Join(dir, ".terraform", "providers")); err == nil {
						entries, _ := filepath.Glob(filepath.Join(dir, ".terraform", "providers", "*", "rolloutdev", "rollout", "*", "*", "terraform-provider-rollout*"))
						if len(entries) > 0 {
							t.Fatalf("a %s provider was installed: %v", c.mode, entries)
						}
					}
				})
			}
		})
	}
}

// TestInitFromFilesystemMirror: the way air-gapped installations and CI
// caches install providers, from the release's zip in a packed mirror.
func TestInitFromFilesystemMirror(t *testing.T) {
	r := load(t)
	for _, eng := range engines(t) {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			e := acctest.NewEnv(t)
			f := e.NewFixture(2)
			mirror := t.TempDir()
			dst := filepath.Join(mirror, eng.host, "rolloutdev", "rollout")
			if err := os.MkdirAll(dst, 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, dst, r.zip, string(r.read(t, r.zip)))
			rcDir := t.TempDir()
			writeFile(t, rcDir, "cli.tfrc", fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path    = %q\n    include = [%q]\n  }\n}\n", mirror, eng.host+"/rolloutdev/rollout"))
			env := []string{"TF_CLI_CONFIG_FILE=" + filepath.Join(rcDir, "cli.tfrc"), "TF_PLUGIN_CACHE_DIR="}
			dir := t.TempDir()
			writeFile(t, dir, "main.tf", config(r, e, f.Listener, f.TGs))
			if out, err := run(dir, eng.bin, env, "init", "-input=false"); err != nil {
				t.Fatalf("init: %v\n%s", err, out)
			}
			lock, _ := os.ReadFile(filepath.Join(dir, ".terraform.lock.hcl"))
			if !strings.Contains(string(lock), `"h1:`) || !strings.Contains(string(lock), fmt.Sprintf("%q", r.version)) {
				t.Fatalf("the lock file records no hash of %s:\n%s", r.version, lock)
			}
			if out, err := run(dir, eng.bin, env, "plan", "-input=false", "-detailed-exitcode"); err == nil || !strings.Contains(out, "rollout_traffic_split.api will be created") {
				t.Fatalf("plan: %v (want exit code 2, a change)\n%s", err, out)
			}
		})
	}
}

// The release carries the orchestrator of detached rollouts for both
// Lambda architectures: zips holding one executable, bootstrap, listed in
// the signed SHA256SUMS (whose signature the install tests check).
func TestOrchestratorZipsInRelease(t *testing.T) {
	r := load(t)
	sums := string(r.read(t, r.sums))
	for _, arch := range []string{"arm64", "amd64"} {
		name := fmt.Sprintf("terraform-provider-rollout_%s_orchestrator_linux_%s.zip", r.version, arch)
		b := r.read(t, name)
		sum := sha256.Sum256(b)
		if !strings.Contains(sums, hex.EncodeToString(sum[:])+"  "+name) {
			t.Errorf("SHA256SUMS does not list %s with its digest", name)
		}
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode()&0o111 == 0 {
			var names []string
			for _, f := range zr.File {
				names = append(names, fmt.Sprintf("%s %v", f.Name, f.Mode()))
			}
			t.Errorf("%s holds %v; Lambda's provided.al2023 runtime wants one executable named bootstrap", name, names)
		}
	}
}
