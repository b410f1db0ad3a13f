// Command rollout-emulator serves the kumo AWS API emulator, behind the
// project's counting front, on a loopback address until it is interrupted.
// It prints its URL on the first line of standard output.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:4566", "loopback address to listen on (port 0 for any free port)")
	states := flag.Bool("states", false, "let Step Functions executions reach this emulator's Lambda functions: take kumo's fixed port 4566 through the bridge (waits while tests hold it)")
	flag.Parse()
	emu, err := emulator.Start(*addr)
	if err != nil {
		log.Fatalf("rollout-emulator: %v", err)
	}
	if *states {
		release, err := emu.ServeStates()
		if err != nil {
			log.Fatalf("rollout-emulator: %v", err)
		}
		defer release()
	}
	fmt.Println(emu.URL)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	emu.Close()
	fmt.Fprintf(os.Stderr, "rollout-emulator: served %d requests\n", emu.Total(""))
}
