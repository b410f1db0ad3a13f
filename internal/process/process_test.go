package process

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

var logVars = []string{"TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PATH", "TF_ACC_LOG_PATH"}

func clearLogVars(t *testing.T) {
	for _, k := range logVars {
		t.Setenv(k, "")
		_ = os.Unsetenv(k)
	}
}

func TestQuietSDKUnlessAsked(t *testing.T) {
	for _, tc := range []struct {
		name  string
		set   map[string]string
		quiet bool
	}{
		{"nobody asked", nil, true},
		{"TF_LOG", map[string]string{"TF_LOG": "DEBUG"}, false},
		{"TF_LOG_PROVIDER", map[string]string{"TF_LOG_PROVIDER": "TRACE"}, false},
		{"TF_ACC_LOG_PATH", map[string]string{"TF_ACC_LOG_PATH": "/tmp/acc.log"}, false},
		{"TF_LOG_SDK_PROTO", map[string]string{"TF_LOG_SDK_PROTO": "TRACE"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearLogVars(t)
			for k, v := range tc.set {
				t.Setenv(k, v)
			}
			quietSDKUnlessAsked()
			for _, k := range []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"} {
				got := os.Getenv(k)
				want := tc.set[k]
				if tc.quiet {
					want = "OFF"
				}
				if got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestCollectGarbageLessOften(t *testing.T) {
	old := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(old) })

	t.Setenv("GOGC", "")
	_ = os.Unsetenv("GOGC")
	collectGarbageLessOften()
	if got := debug.SetGCPercent(100); got != 400 {
		t.Errorf("GOGC unset: GC percent = %d, want 400", got)
	}

	t.Setenv("GOGC", "150")
	collectGarbageLessOften()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC=150 in the environment: GC percent changed to %d, want it left alone", got)
	}
}

func TestProfileIfAsked(t *testing.T) {
	t.Setenv("ROLLOUT_CPU_PROFILE", "")
	if stop := profileIfAsked(); stop != nil {
		t.Fatal("a profile was started without ROLLOUT_CPU_PROFILE")
	}
	dest := filepath.Join(t.TempDir(), "cpu")
	t.Setenv("ROLLOUT_CPU_PROFILE", dest)
	stop := profileIfAsked()
	if stop == nil {
		t.Fatal("ROLLOUT_CPU_PROFILE set, but no profile was started")
	}
	stop()
	matches, _ := filepath.Glob(dest + ".*")
	if len(matches) != 1 {
		t.Fatalf("profile files %v, want one %s.<pid>", matches, dest)
	}
	if fi, err := os.Stat(matches[0]); err != nil || fi.Size() == 0 {
		t.Fatalf("profile %s is empty or missing: %v", matches[0], err)
	}
}
