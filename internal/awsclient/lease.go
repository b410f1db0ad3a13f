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

// ListenerLease is a listener's or rule's lease, in its ELB tags.
type ListenerLease struct {
	Client *Client
	Ref    Ref
}

// ReadLease reads the lease tags of the listener or rule.
func (l ListenerLease) ReadLease(ctx context.Context) (Lease, error) {
	out, err := l.Client.ELB.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: []string{l.Ref.ID()}})
	if isNotFound(err) {
		return Lease{}, ErrNotFound
	}
	if err != nil {
		return Lease{}, err
	}
	tags := map[string]string{}
	for _, d := range out.TagDescriptions {
		for _, t := range d.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return Lease{Owner: tags[OwnerTag], Last: tags[LastTag], Run: tags[RunTag], Status: tags[StatusTag]}, nil
}

func (l ListenerLease) addTags(ctx context.Context, tags map[string]string) error {
	var ts []elbtypes.Tag
	for k, v := range tags {
		ts = append(ts, elbtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	_, err := l.Client.ELB.AddTags(ctx, &elb.AddTagsInput{ResourceArns: []string{l.Ref.ID()}, Tags: ts})
	return err
}

func (l ListenerLease) removeTags(ctx context.Context, keys ...string) error {
	_, err := l.Client.ELB.RemoveTags(ctx, &elb.RemoveTagsInput{ResourceArns: []string{l.Ref.ID()}, TagKeys: keys})
	return err
}

// TakeLease makes owner the owner of the listener or rule.
func (l ListenerLease) TakeLease(ctx context.Context, owner string, had Lease) error {
	return takeLease(ctx, l.Ref.ID(), owner, had, l.addTags, l.removeTags, OwnerTag, LastTag)
}

// ReleaseLease gives owner's lease up.
func (l ListenerLease) ReleaseLease(ctx context.Context, owner, last string) error {
	return releaseLease(ctx, l, owner, last, l.addTags, l.removeTags, OwnerTag, LastTag)
}

// SetOwner puts an owner back.
func (l ListenerLease) SetOwner(ctx context.Context, owner string) error {
	return setOwner(ctx, owner, l.addTags, l.removeTags, OwnerTag)
}

// SetRun sets the listener's or rule's RunTag.
func (l ListenerLease) SetRun(ctx context.Context, run string) error {
	return setOwner(ctx, run, l.addTags, l.removeTags, RunTag)
}

// SetStatus sets the listener's or rule's StatusTag.
func (l ListenerLease) SetStatus(ctx context.Context, status string) error {
	return setOwner(ctx, status, l.addTags, l.removeTags, StatusTag)
}

// takeLease writes owner's tag and clears the last outcome.
func takeLease(ctx context.Context, id, owner string, had Lease, add func(context.Context, map[string]string) error, remove func(context.Context, ...string) error, ownerKey, lastKey string) error {
	if err := add(ctx, map[string]string{ownerKey: owner}); err != nil {
		return fmt.Errorf("tagging %s with %s: %w", id, ownerKey, err)
	}
	if had.Last != "" {
		if err := remove(ctx, lastKey); err != nil {
			return fmt.Errorf("removing %s from %s: %w", lastKey, id, err)
		}
	}
	return nil
}

func releaseLease(ctx context.Context, s LeaseStore, owner, last string, add func(context.Context, map[string]string) error, remove func(context.Context, ...string) error, ownerKey, lastKey string) error {
	l, err := s.ReadLease(ctx)
	if err != nil {
		return err
	}
	if l.Owner == owner && owner != "" {
		if err := remove(ctx, ownerKey); err != nil {
			return err
		}
	}
	if last != "" {
		return add(ctx, map[string]string{lastKey: last})
	}
	return nil
}

// setOwner sets one tag of a lease (the owner, the run); "" removes it.
func setOwner(ctx context.Context, owner string, add func(context.Context, map[string]string) error, remove func(context.Context, ...string) error, ownerKey string) error {
	if owner == "" {
		return remove(ctx, ownerKey)
	}
	return add(ctx, map[string]string{ownerKey: owner})
}

// AliasLease is a Lambda alias's lease, in tags on its function whose keys
// name the alias ("rollout:owner:live").
type AliasLease struct {
	Client *Client
	Ref    AliasRef
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

func (a AliasLease) ownerKey() string  { return aliasTagKey(OwnerTag, a.Ref.Alias) }
func (a AliasLease) lastKey() string   { return aliasTagKey(LastTag, a.Ref.Alias) }
func (a AliasLease) runKey() string    { return aliasTagKey(RunTag, a.Ref.Alias) }
func (a AliasLease) statusKey() string { return aliasTagKey(StatusTag, a.Ref.Alias) }

// functionARN is the ARN of the alias's function, for its tags.
func (a AliasLease) functionARN(ctx context.Context) (string, error) {
	if strings.HasPrefix(a.Ref.Function, "arn:") {
		return a.Ref.Function, nil
	}
	out, err := a.Client.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(a.Ref.Function)})
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

// ReadLease reads the alias's lease tags on its function.
func (a AliasLease) ReadLease(ctx context.Context) (Lease, error) {
	fa, err := a.functionARN(ctx)
	if err != nil {
		return Lease{}, err
	}
	out, err := a.Client.Lambda.ListTags(ctx, &lambda.ListTagsInput{Resource: aws.String(fa)})
	if lambdaNotFound(err) {
		return Lease{}, ErrNotFound
	}
	if err != nil {
		return Lease{}, err
	}
	return Lease{Owner: out.Tags[a.ownerKey()], Last: out.Tags[a.lastKey()], Run: out.Tags[a.runKey()], Status: out.Tags[a.statusKey()]}, nil
}

func (a AliasLease) addTags(ctx context.Context, tags map[string]string) error {
	fa, err := a.functionARN(ctx)
	if err != nil {
		return err
	}
	_, err = a.Client.Lambda.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String(fa), Tags: tags})
	return err
}

func (a AliasLease) removeTags(ctx context.Context, keys ...string) error {
	fa, err := a.functionARN(ctx)
	if err != nil {
		return err
	}
	_, err = a.Client.Lambda.UntagResource(ctx, &lambda.UntagResourceInput{Resource: aws.String(fa), TagKeys: keys})
	return err
}

// TakeLease makes owner the owner of the alias.
func (a AliasLease) TakeLease(ctx context.Context, owner string, had Lease) error {
	return takeLease(ctx, a.Ref.ID(), owner, had, a.addTags, a.removeTags, a.ownerKey(), a.lastKey())
}

// ReleaseLease gives owner's lease of the alias up.
func (a AliasLease) ReleaseLease(ctx context.Context, owner, last string) error {
	return releaseLease(ctx, a, owner, last, a.addTags, a.removeTags, a.ownerKey(), a.lastKey())
}

// SetOwner puts an owner back.
func (a AliasLease) SetOwner(ctx context.Context, owner string) error {
	return setOwner(ctx, owner, a.addTags, a.removeTags, a.ownerKey())
}

// SetRun sets the alias's RunTag on its function.
func (a AliasLease) SetRun(ctx context.Context, run string) error {
	return setOwner(ctx, run, a.addTags, a.removeTags, a.runKey())
}

// SetStatus sets the alias's StatusTag on its function.
func (a AliasLease) SetStatus(ctx context.Context, status string) error {
	return setOwner(ctx, status, a.addTags, a.removeTags, a.statusKey())
}

// FlagLease is a feature flag's lease, in its parameter's tags.
type FlagLease struct {
	Client *Client
	Name   string
}

// ReadLease reads the parameter's lease tags.
func (f FlagLease) ReadLease(ctx context.Context) (Lease, error) {
	out, err := f.Client.SSM.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String(f.Name)})
	var nf *ssmtypes.InvalidResourceId
	if errors.As(err, &nf) || ssmNotFound(err) {
		return Lease{}, ErrNotFound
	}
	if err != nil {
		return Lease{}, err
	}
	var l Lease
	for _, t := range out.TagList {
		switch aws.ToString(t.Key) {
		case OwnerTag:
			l.Owner = aws.ToString(t.Value)
		case LastTag:
			l.Last = aws.ToString(t.Value)
		case RunTag:
			l.Run = aws.ToString(t.Value)
		case StatusTag:
			l.Status = aws.ToString(t.Value)
		}
	}
	return l, nil
}

func (f FlagLease) addTags(ctx context.Context, tags map[string]string) error {
	var ts []ssmtypes.Tag
	for k, v := range tags {
		ts = append(ts, ssmtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	_, err := f.Client.SSM.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String(f.Name), Tags: ts})
	return err
}

func (f FlagLease) removeTags(ctx context.Context, keys ...string) error {
	_, err := f.Client.SSM.RemoveTagsFromResource(ctx, &ssm.RemoveTagsFromResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String(f.Name), TagKeys: keys})
	return err
}

// TakeLease makes owner the owner of the flag.
func (f FlagLease) TakeLease(ctx context.Context, owner string, had Lease) error {
	return takeLease(ctx, f.Name, owner, had, f.addTags, f.removeTags, OwnerTag, LastTag)
}

// ReleaseLease gives owner's lease of the flag up.
func (f FlagLease) ReleaseLease(ctx context.Context, owner, last string) error {
	return releaseLease(ctx, f, owner, last, f.addTags, f.removeTags, OwnerTag, LastTag)
}

// SetOwner puts an owner back.
func (f FlagLease) SetOwner(ctx context.Context, owner string) error {
	return setOwner(ctx, owner, f.addTags, f.removeTags, OwnerTag)
}

// SetRun sets the parameter's RunTag.
func (f FlagLease) SetRun(ctx context.Context, run string) error {
	return setOwner(ctx, run, f.addTags, f.removeTags, RunTag)
}

// SetStatus sets the parameter's StatusTag.
func (f FlagLease) SetStatus(ctx context.Context, status string) error {
	return setOwner(ctx, status, f.addTags, f.removeTags, StatusTag)
}

func ssmNotFound(err error) bool {
	var nf *ssmtypes.ParameterNotFound
	if errors.As(err, &nf) {
		return true
	}
	var ae interface{ ErrorCode() string }
	return errors.As(err, &ae) && (ae.ErrorCode() == "ParameterNotFound" || ae.ErrorCode() == "InvalidResourceId")
}
