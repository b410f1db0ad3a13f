package awsclient

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// The lease: tags kept where the subject lives, so that a second owner is
// visible to both, whatever stack, workspace or tool it belongs to. A
// listener's or rule's lease is on it (ELB tags); an alias's is on its
// function (Lambda tags on aliases do not exist), under keys that name the
// alias; a flag's is on its parameter (SSM tags).
const (
	// OwnerTag names the resource that owns the subject
	// ("rollout_traffic_split/<token>").
	OwnerTag = "rollout:owner"
	// LastTag is left by a resource destroyed before its change finished
	// (a tainted create being replaced): "<status> <fingerprint>", so the
	// replacement does not silently run a change that did not ship again.
	LastTag = "rollout:last"
	// RunTag says where a detached rollout of the subject is: "running
	// <execution>" (set by the apply that started it), "abort
	// <execution>" (set by an apply that aborts it; the orchestrator
	// rolls back) and "<status> <execution>" (set by the orchestrator
	// when the run ends).
	RunTag = "rollout:run"
	// StatusTag is where the last rollout of the subject stands, as its
	// last notice said it (StatusValue): the status view reads it.
	StatusTag = "rollout:status"
)

// Lease is what the tags of a subject say.
type Lease struct {
	Owner  string
	Last   string
	Run    string
	Status string
}

// LeaseStore keeps one subject's lease.
type LeaseStore interface {
	// ReadLease reads the lease, or ErrNotFound when the subject is gone.
	ReadLease(ctx context.Context) (Lease, error)
	// TakeLease makes owner the owner and clears LastTag (had is the lease
	// read before).
	TakeLease(ctx context.Context, owner string, had Lease) error
	// ReleaseLease removes owner's lease (another owner's is left alone)
	// and, when last is set, leaves it in LastTag.
	ReleaseLease(ctx context.Context, owner, last string) error
	// SetOwner puts an owner back as it was (a lease taken by a change
	// that was then refused); "" removes the owner tag.
	SetOwner(ctx context.Context, owner string) error
	// SetRun sets RunTag; "" removes it.
	SetRun(ctx context.Context, run string) error
	// SetStatus sets StatusTag.
	SetStatus(ctx context.Context, status string) error
}

// TakenFrom says, from a reading of a subject's lease (l, err), why a run
// under owner may write no more to it: the subject is gone, or another
// owner took its lease (it wins). It is "" while the lease is the run's,
// and when it could not be read (the guard's read before each write
// decides whether AWS can be reached). Both drivers stop a run on it.
func TakenFrom(l Lease, err error, owner, kind, id string) string {
	switch {
	case errors.Is(err, ErrNotFound):
		return fmt.Sprintf("the %s %s no longer exists", kind, id)
	case err != nil:
		return ""
	case l.Owner != "" && l.Owner != owner:
		return fmt.Sprintf("another owner (%s) took the %s's lease during the rollout; it wins, and nothing more is written", l.Owner, kind)
	}
	return ""
}

// NewOwnerToken returns a fresh owner value for a resource type.
func NewOwnerToken(resourceType string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return resourceType + "/" + hex.EncodeToString(b)
}

// ChangeFingerprint identifies a change (its target and attempt) in a tag
// value, which allows few characters.
func ChangeFingerprint(target, attempt string) string {
	h := sha256.Sum256([]byte(target + "\n" + attempt))
	return hex.EncodeToString(h[:8])
}

// tagStore is where a subject's lease tags live: its service's tags for
// it, read and written whole, and the key each lease tag has there.
type tagStore interface {
	readTags(ctx context.Context) (map[string]string, error)
	addTags(ctx context.Context, tags map[string]string) error
	removeTags(ctx context.Context, keys ...string) error
	key(base string) string
	id() string
}

// tagLease is a lease in a tagStore: one implementation of LeaseStore for
// every subject.
type tagLease struct{ tagStore }

// ListenerLease is a listener's or rule's lease, in its ELB tags.
func ListenerLease(c *Client, ref Ref) LeaseStore { return tagLease{listenerTags{c, ref}} }

// AliasLease is a Lambda alias's lease, in tags on its function whose keys
// name the alias ("rollout:owner:live").
func AliasLease(c *Client, ref AliasRef) LeaseStore { return tagLease{aliasTags{c, ref}} }

// FlagLease is a feature flag's lease, in its parameter's tags.
func FlagLease(c *Client, name string) LeaseStore { return tagLease{flagTags{c, name}} }

// ReadLease reads the lease tags, or ErrNotFound when the subject is gone.
func (l tagLease) ReadLease(ctx context.Context) (Lease, error) {
	tags, err := l.readTags(ctx)
	if err != nil {
		return Lease{}, err
	}
	return Lease{Owner: tags[l.key(OwnerTag)], Last: tags[l.key(LastTag)], Run: tags[l.key(RunTag)], Status: tags[l.key(StatusTag)]}, nil
}

// TakeLease writes owner's tag and clears the last outcome.
func (l tagLease) TakeLease(ctx context.Context, owner string, had Lease) error {
	if err := l.addTags(ctx, map[string]string{l.key(OwnerTag): owner}); err != nil {
		return fmt.Errorf("tagging %s with %s: %w", l.id(), l.key(OwnerTag), err)
	}
	if had.Last != "" {
		if err := l.removeTags(ctx, l.key(LastTag)); err != nil {
			return fmt.Errorf("removing %s from %s: %w", l.key(LastTag), l.id(), err)
		}
	}
	return nil
}

// ReleaseLease gives owner's lease up (another owner's is left alone) and,
// when last is set, leaves it in LastTag.
func (l tagLease) ReleaseLease(ctx context.Context, owner, last string) error {
	had, err := l.ReadLease(ctx)
	if err != nil {
		return err
	}
	if had.Owner == owner && owner != "" {
		if err := l.removeTags(ctx, l.key(OwnerTag)); err != nil {
			return err
		}
	}
	if last != "" {
		return l.addTags(ctx, map[string]string{l.key(LastTag): last})
	}
	return nil
}

// SetOwner puts an owner back; "" removes the owner tag.
func (l tagLease) SetOwner(ctx context.Context, owner string) error {
	return l.set(ctx, OwnerTag, owner)
}

// SetRun sets RunTag; "" removes it.
func (l tagLease) SetRun(ctx context.Context, run string) error { return l.set(ctx, RunTag, run) }

// SetStatus sets StatusTag.
func (l tagLease) SetStatus(ctx context.Context, status string) error {
	return l.set(ctx, StatusTag, status)
}

// set sets one tag of the lease; "" removes it.
func (l tagLease) set(ctx context.Context, base, v string) error {
	if v == "" {
		return l.removeTags(ctx, l.key(base))
	}
	return l.addTags(ctx, map[string]string{l.key(base): v})
}

// listenerTags are a listener's or rule's ELB tags.
type listenerTags struct {
	c   *Client
	ref Ref
}

func (t listenerTags) key(base string) string { return base }
func (t listenerTags) id() string             { return t.ref.ID() }

func (t listenerTags) readTags(ctx context.Context) (map[string]string, error) {
	out, err := t.c.ELB.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: []string{t.ref.ID()}})
	if isNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	tags := map[string]string{}
	for _, d := range out.TagDescriptions {
		for _, tg := range d.Tags {
			tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
	}
	return tags, nil
}

func (t listenerTags) addTags(ctx context.Context, tags map[string]string) error {
	var ts []elbtypes.Tag
	for k, v := range tags {
		ts = append(ts, elbtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	_, err := t.c.ELB.AddTags(ctx, &elb.AddTagsInput{ResourceArns: []string{t.ref.ID()}, Tags: ts})
	return err
}

func (t listenerTags) removeTags(ctx context.Context, keys ...string) error {
	_, err := t.c.ELB.RemoveTags(ctx, &elb.RemoveTagsInput{ResourceArns: []string{t.ref.ID()}, TagKeys: keys})
	return err
}

// aliasTags are an alias's tags on its function (Lambda tags on aliases do
// not exist), under keys that name the alias.
type aliasTags struct {
	c   *Client
	ref AliasRef
}

// aliasTagKey is the function tag key of an alias's lease tag. Lambda tag
// keys are at most 128 characters: a long alias name is hashed.
func aliasTagKey(base, alias string) string {
	k := base + ":" + alias
	if len(k) <= 128 {
		return k
	}
	h := sha256.Sum256([]byte(alias))
	return base + ":" + hex.EncodeToString(h[:16])
}

func (t aliasTags) key(base string) string { return aliasTagKey(base, t.ref.Alias) }
func (t aliasTags) id() string             { return t.ref.ID() }

// functionARN is the ARN of the alias's function, for its tags.
func (t aliasTags) functionARN(ctx context.Context) (string, error) {
	if strings.HasPrefix(t.ref.Function, "arn:") {
		return t.ref.Function, nil
	}
	out, err := t.c.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(t.ref.Function)})
	if lambdaNotFound(err) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", err
	}
	if out.Configuration == nil || aws.ToString(out.Configuration.FunctionArn) == "" {
		return "", errors.New("GetFunction answered without the function's ARN")
	}
	// Unqualified: a function ARN read may carry no version, but be sure.
	fa := aws.ToString(out.Configuration.FunctionArn)
	if i := strings.Index(fa, ":function:"); i >= 0 {
		rest := fa[i+len(":function:"):]
		if j := strings.Index(rest, ":"); j >= 0 {
			fa = fa[:i+len(":function:")+j]
		}
	}
	return fa, nil
}

func (t aliasTags) readTags(ctx context.Context) (map[string]string, error) {
	fa, err := t.functionARN(ctx)
	if err != nil {
		return nil, err
	}
	out, err := t.c.Lambda.ListTags(ctx, &lambda.ListTagsInput{Resource: aws.String(fa)})
	if lambdaNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return out.Tags, nil
}

func (t aliasTags) addTags(ctx context.Context, tags map[string]string) error {
	fa, err := t.functionARN(ctx)
	if err != nil {
		return err
	}
	_, err = t.c.Lambda.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String(fa), Tags: tags})
	return err
}

func (t aliasTags) removeTags(ctx context.Context, keys ...string) error {
	fa, err := t.functionARN(ctx)
	if err != nil {
		return err
	}
	_, err = t.c.Lambda.UntagResource(ctx, &lambda.UntagResourceInput{Resource: aws.String(fa), TagKeys: keys})
	return err
}

// flagTags are a flag parameter's SSM tags.
type flagTags struct {
	c    *Client
	name string
}

func (t flagTags) key(base string) string { return base }
func (t flagTags) id() string             { return t.name }

func (t flagTags) readTags(ctx context.Context) (map[string]string, error) {
	out, err := t.c.SSM.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String(t.name)})
	var nf *ssmtypes.InvalidResourceId
	if errors.As(err, &nf) || ssmNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	tags := map[string]string{}
	for _, tg := range out.TagList {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return tags, nil
}

func (t flagTags) addTags(ctx context.Context, tags map[string]string) error {
	var ts []ssmtypes.Tag
	for k, v := range tags {
		ts = append(ts, ssmtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	_, err := t.c.SSM.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String(t.name), Tags: ts})
	return err
}

func (t flagTags) removeTags(ctx context.Context, keys ...string) error {
	_, err := t.c.SSM.RemoveTagsFromResource(ctx, &ssm.RemoveTagsFromResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String(t.name), TagKeys: keys})
	return err
}

func ssmNotFound(err error) bool {
	var nf *ssmtypes.ParameterNotFound
	if errors.As(err, &nf) {
		return true
	}
	var ae interface{ ErrorCode() string }
	return errors.As(err, &ae) && (ae.ErrorCode() == "ParameterNotFound" || ae.ErrorCode() == "InvalidResourceId")
}
