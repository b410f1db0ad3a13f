package acctest_test

import (
	"os"
	"testing"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
)

func TestMain(m *testing.M) {
	acctest.SetCredentialsEnv()
	os.Exit(m.Run())
}
