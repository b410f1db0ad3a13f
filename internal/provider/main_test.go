package provider_test

import (
	"os"
	"testing"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
)

func TestMain(m *testing.M) {
	acctest.SetCredentialsEnv()
	acctest.TuneTestBinary()
	acctest.TuneEngines()
	os.Exit(m.Run())
}
