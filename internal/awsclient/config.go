// Package awsclient builds the AWS SDK clients the provider uses and holds
// the operations on them. Every AWS call the provider makes goes through the
// narrow interfaces declared here.
package awsclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
)

// DefaultMaxRetries is how many times a throttled or failed request is retried
// when the provider configuration does not say.
const DefaultMaxRetries = 8

// ResponseTimeout bounds the wait for the start of an answer from ELB and
// CloudWatch.
const ResponseTimeout = 30 * time.Second

// Config is what the provider block says about reaching AWS.
type Config struct {
	Region                 string
	Profile                string
	SharedConfigFiles      []string
	SharedCredentialsFiles []string
	AssumeRole             *AssumeRole
	Endpoints              Endpoints
	MaxRetries             int
	// ProviderVersion goes into the User-Agent header of every request.
	ProviderVersion string
	// Budgets pace the requests by action class (pacer.go); nil does not.
	Budgets map[string]Budget
	// PacerClock is the clock the pacer spaces requests by, and
	// NoticeClock the one a notice's publish is bounded by (notify.go):
	// the real clock when nil, as in the provider. Tests give them a fake
	// one, so that a paced run or a slow delivery costs no real time.
	PacerClock, NoticeClock clock.Clock
}

// AssumeRole is an IAM role the provider assumes with the credentials it found.
type AssumeRole struct {
	RoleARN     string
	SessionName string
	ExternalID  string
	Duration    time.Duration
}

// Endpoints overrides the URL of a service: an emulator, a VPC endpoint.
type Endpoints struct {
	ELBv2      string
	CloudWatch string
	Lambda     string
	STS        string
	SSM        string
	// StepFunctions is for detached rollouts.
	StepFunctions string
	// SNS and EventBridge are for notices.
	SNS, EventBridge string
	// ECS and CodeDeploy are read for the deployments they run on a
	// listener (controlled_by).
	ECS, CodeDeploy string
}

// Client is everything a resource needs to talk to AWS.
type Client struct {
	ELB        ELBAPI
	CloudWatch CloudWatchAPI
	Lambda     LambdaAPI
	SSM        SSMAPI
	States     StatesAPI
	SNS        SNSAPI
	Events     EventsAPI
	ECS        ECSAPI
	CodeDeploy CodeDeployAPI
	Region     string
	Clock      clock.Clock
	// Pacer paces every request of the client's services (nil: none).
	Pacer *Pacer
	// NoticeClock bounds each publish of a notice (nil: the real clock).
	NoticeClock clock.Clock
	// shared are the gate readings every rollout of the client shares
	// (shared.go).
	sharedOnce sync.Once
	shared     *sharedReadings
	// Running counts the rollouts running through the client (the
	// provider's stagger).
	Running atomic.Int64
	// batcher batches the reads of listeners and rules (batch.go).
	batchOnce sync.Once
	batcher   *batcher
	// metrics batches the metric gates' reads (metricbatch.go).
	metricOnce sync.Once
	metrics    *metricBatcher
}

// ErrNoRegion is returned when neither the configuration nor the environment
// names a region.
var ErrNoRegion = errors.New("no AWS region is set")

// New loads the shared configuration and the standard credential chain
// (environment, shared files, SSO, web identity, container and instance
// roles), applies the overrides in c and builds the service clients.
func New(ctx context.Context, c Config, clk clock.Clock) (*Client, error) {
	opts, pacer := loadOptions(c)
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, ErrNoRegion
	}
	if ar := c.AssumeRole; ar != nil && ar.RoleARN != "" {
		cfg.Credentials = assumeRole(cfg, *ar, c.Endpoints.STS)
	}
	// A request whose answer does not start within ResponseTimeout is
	// given up (and retried by the SDK): a hung connection never holds a
	// rollout past its gates. Lambda hooks may run for minutes, so their
	// bound is the apply's deadline alone.
	quick := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) { t.ResponseHeaderTimeout = ResponseTimeout })
	hooks := cfg.Copy()
	cfg.HTTPClient = quick
	return &Client{
		ELB:         elb.NewFromConfig(cfg, func(o *elb.Options) { override(&o.BaseEndpoint, c.Endpoints.ELBv2) }),
		CloudWatch:  cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { override(&o.BaseEndpoint, c.Endpoints.CloudWatch) }),
		Lambda:      lambda.NewFromConfig(hooks, func(o *lambda.Options) { override(&o.BaseEndpoint, c.Endpoints.Lambda) }),
		SSM:         ssm.NewFromConfig(cfg, func(o *ssm.Options) { override(&o.BaseEndpoint, c.Endpoints.SSM) }),
		States:      sfn.NewFromConfig(cfg, func(o *sfn.Options) { override(&o.BaseEndpoint, c.Endpoints.StepFunctions) }),
		SNS:         sns.NewFromConfig(cfg, func(o *sns.Options) { override(&o.BaseEndpoint, c.Endpoints.SNS) }),
		Events:      eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { override(&o.BaseEndpoint, c.Endpoints.EventBridge) }),
		ECS:         ecs.NewFromConfig(cfg, func(o *ecs.Options) { override(&o.BaseEndpoint, c.Endpoints.ECS) }),
		CodeDeploy:  codedeploy.NewFromConfig(cfg, func(o *codedeploy.Options) { override(&o.BaseEndpoint, c.Endpoints.CodeDeploy) }),
		Region:      cfg.Region,
		Clock:       clk,
		Pacer:       pacer,
		NoticeClock: c.NoticeClock,
	}, nil
}

// loadOptions are the options New loads the AWS configuration with: the
// retryer, the user agent, the pacer when there are budgets, the region,
// profile and shared files.
func loadOptions(c Config) ([]func(*config.LoadOptions) error, *Pacer) {
	var pacer *Pacer
	apiOptions := []func(*middleware.Stack) error{
		awsmiddleware.AddUserAgentKeyValue("terraform-provider-rollout", c.ProviderVersion),
	}
	if c.Budgets != nil {
		// Real time: the pacer spaces requests, whatever clock the
		// schedules run on (a test may give it its fake one).
		var pc clock.Clock = clock.Real{}
		if c.PacerClock != nil {
			pc = c.PacerClock
		}
		pacer = NewPacer(pc, c.Budgets)
		apiOptions = append(apiOptions, paceMiddleware(pacer))
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
				o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
					so.MaxAttempts = c.MaxRetries + 1
				})
			})
		}),
		config.WithAPIOptions(apiOptions),
	}
	if c.Region != "" {
		opts = append(opts, config.WithRegion(c.Region))
	}
	if c.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.Profile))
	}
	if len(c.SharedConfigFiles) > 0 {
		opts = append(opts, config.WithSharedConfigFiles(c.SharedConfigFiles))
	}
	if len(c.SharedCredentialsFiles) > 0 {
		opts = append(opts, config.WithSharedCredentialsFiles(c.SharedCredentialsFiles))
	}
	return opts, pacer
}

// assumeRole is the credentials of the role ar, assumed through STS (at
// endpoint when set) with cfg's credentials.
func assumeRole(cfg aws.Config, ar AssumeRole, endpoint string) aws.CredentialsProvider {
	stsClient := sts.NewFromConfig(cfg, func(o *sts.Options) { override(&o.BaseEndpoint, endpoint) })
	p := stscreds.NewAssumeRoleProvider(stsClient, ar.RoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = ar.SessionName
		if ar.ExternalID != "" {
			o.ExternalID = aws.String(ar.ExternalID)
		}
		if ar.Duration > 0 {
			o.Duration = ar.Duration
		}
	})
	return aws.NewCredentialsCache(p)
}

// override sets an endpoint override; "" keeps the endpoint the SDK
// found (AWS's own, or one the environment names).
func override(base **string, url string) {
	if url != "" {
		*base = aws.String(url)
	}
}

// NoCredentials reports whether err is the SDK finding no credentials at all
// (nothing in the chain it tried), as opposed to AWS refusing the
// credentials it was given.
func NoCredentials(err error) bool {
	var ae smithy.APIError
	if err == nil || errors.As(err, &ae) {
		return false
	}
	var se *v4.SigningError
	if errors.As(err, &se) && strings.Contains(se.Error(), "failed to retrieve credentials") {
		return true
	}
	// The SDK's identity step: "get identity: get credentials: …".
	var oe *smithy.OperationError
	return errors.As(err, &oe) && strings.Contains(oe.Err.Error(), "get credentials:")
}

// CredentialChain names, for messages, where the SDK looks for credentials.
const CredentialChain = "the provider block's profile and assume_role, the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE), " +
	"the shared credentials and config files (~/.aws/credentials, ~/.aws/config, or shared_credentials_files and shared_config_files), " +
	"SSO and web identity (AWS_WEB_IDENTITY_TOKEN_FILE), then the container and EC2 instance roles"
