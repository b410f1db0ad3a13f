// Package process sets up the provider process before it serves: fewer
// garbage collections, no SDK trace logs nobody asked for, and a CPU profile
// when ROLLOUT_CPU_PROFILE asks for one. The provider and the floor providers
// of `make bench` share it, so that they are measured alike.
package process

import (
	"fmt"
	"log"
	"os"
	"runtime/debug"
	"runtime/pprof"
)

// Setup applies every setting and returns the function that ends the CPU
// profile (a no-op when none was asked for); call it before exiting.
func Setup() (stop func()) {
	quietSDKUnlessAsked()
	collectGarbageLessOften()
	if stop := profileIfAsked(); stop != nil {
		return stop
	}
	return func() {}
}

// collectGarbageLessOften trades memory for CPU: a plan allocates a lot of
// short-lived values (every request's state is decoded and re-encoded
// several times by the plugin framework), and at the default GOGC=100 the
// collector took a fifth of the provider's CPU in a plan over 400 splits.
// The provider's live heap stays small, so collecting at 4× instead of 2×
// of it costs little memory. GOGC in the environment still wins.
func collectGarbageLessOften() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

// profileIfAsked writes a CPU profile of this process to
// $ROLLOUT_CPU_PROFILE.<pid> when that variable is set: `make bench` uses it
// to see where a plan's time goes inside the provider.
func profileIfAsked() func() {
	dest := os.Getenv("ROLLOUT_CPU_PROFILE")
	if dest == "" {
		return nil
	}
	f, err := os.Create(fmt.Sprintf("%s.%d", dest, os.Getpid()))
	if err != nil {
		log.Printf("ROLLOUT_CPU_PROFILE: %v", err)
		return nil
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Printf("ROLLOUT_CPU_PROFILE: %v", err)
		_ = f.Close()
		return nil
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}
}

// quietSDKUnlessAsked turns off the plugin SDK's own trace logs when nobody
// asked for logs. The SDK otherwise formats a JSON trace line for every step
// of every request, which the engine then throws away: it was 30 % of the
// provider's CPU time in a plan over 400 resources (see README, Performance).
// Any TF_LOG* variable brings every log back, the provider's own included.
func quietSDKUnlessAsked() {
	for _, k := range []string{"TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PATH", "TF_ACC_LOG_PATH"} {
		if os.Getenv(k) != "" {
			return
		}
	}
	for _, k := range []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"} {
		_ = os.Setenv(k, "OFF")
	}
}
