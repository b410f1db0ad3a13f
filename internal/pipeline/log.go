package pipeline

import "context"

// Logger is where the pipeline logs what it does. The provider points it
// at Terraform's log (tflog); by default nothing is logged.
type Logger struct {
	Info, Warn func(ctx context.Context, msg string, fields ...map[string]any)
}

func nop(context.Context, string, ...map[string]any) {}

// Log is the pipeline's logger, set once before any change runs.
var Log = Logger{Info: nop, Warn: nop}
