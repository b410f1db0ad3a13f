//go:build !unix

package emulator

import (
	"errors"
	"os"
)

var errNoLock = errors.New("the Step Functions bridge needs a Unix machine")

func lockFile(*os.File) error   { return errNoLock }
func unlockFile(*os.File) error { return errNoLock }
