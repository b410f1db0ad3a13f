package awsclient

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// The lease: tags on the listener or rule whose forward action a resource
// owns, so that a second owner is visible to both.
const (
	// OwnerTag names the resource that owns the forward action
	// ("rollout_traffic_split/<token>").
	OwnerTag = "rollout:owner"
	// LastTag is left by a resource destroyed before its create finished
	// (a tainted create being replaced): "<status> <fingerprint>", so the
	// replacement does not silently run a rolled-back change again.
	LastTag = "rollout:last"
)

// Lease is what the tags of a listener or rule say.
type Lease struct {
	Owner string
	Last  string
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

// ReadLease reads the lease tags of a listener or rule.
func (c *Client) ReadLease(ctx context.Context, ref Ref) (Lease, error) {
	out, err := c.ELB.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: []string{ref.ID()}})
	if isNotFound(err) {
		return Lease{}, ErrNotFound
	}
	if err != nil {
		return Lease{}, err
	}
	var l Lease
	for _, d := range out.TagDescriptions {
		for _, t := range d.Tags {
			switch aws.ToString(t.Key) {
			case OwnerTag:
				l.Owner = aws.ToString(t.Value)
			case LastTag:
				l.Last = aws.ToString(t.Value)
			}
		}
	}
	return l, nil
}

// TakeLease makes owner the owner of ref and clears LastTag.
func (c *Client) TakeLease(ctx context.Context, ref Ref, owner string, had Lease) error {
	if _, err := c.ELB.AddTags(ctx, &elb.AddTagsInput{ResourceArns: []string{ref.ID()}, Tags: []elbtypes.Tag{{Key: aws.String(OwnerTag), Value: aws.String(owner)}}}); err != nil {
		return fmt.Errorf("tagging %s with %s: %w", ref.ID(), OwnerTag, err)
	}
	if had.Last != "" {
		if _, err := c.ELB.RemoveTags(ctx, &elb.RemoveTagsInput{ResourceArns: []string{ref.ID()}, TagKeys: []string{LastTag}}); err != nil {
			return fmt.Errorf("removing %s from %s: %w", LastTag, ref.ID(), err)
		}
	}
	return nil
}

// ReleaseLease removes owner's lease (a lease another resource holds is
// left alone) and, when last is set, leaves it in LastTag.
func (c *Client) ReleaseLease(ctx context.Context, ref Ref, owner, last string) error {
	l, err := c.ReadLease(ctx, ref)
	if err != nil {
		return err
	}
	if l.Owner == owner && owner != "" {
		if _, err := c.ELB.RemoveTags(ctx, &elb.RemoveTagsInput{ResourceArns: []string{ref.ID()}, TagKeys: []string{OwnerTag}}); err != nil {
			return err
		}
	}
	if last != "" {
		_, err = c.ELB.AddTags(ctx, &elb.AddTagsInput{ResourceArns: []string{ref.ID()}, Tags: []elbtypes.Tag{{Key: aws.String(LastTag), Value: aws.String(last)}}})
	}
	return err
}
