package awsclient

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
)

// Finding 10: with no credentials anywhere, the error is told apart from AWS
// refusing the credentials given (a permission failure).
func TestNoCredentialsToldApart(t *testing.T) {
	emu, err := emulator.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	dir := t.TempDir()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	c, err := New(context.Background(), Config{Region: "us-east-1", MaxRetries: 0, Endpoints: Endpoints{ELBv2: emu.URL}}, clock.Real{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ReadActions(context.Background(), Ref{ListenerARN: "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/x/1/2"})
	if !NoCredentials(err) {
		t.Fatalf("NoCredentials(%v) = false", err)
	}
	denied := &smithy.OperationError{Err: &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized"}}
	if NoCredentials(denied) || NoCredentials(errors.New("failed to retrieve credentials")) {
		t.Fatal("a permission failure or a plain error counted as no credentials")
	}
}
