package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// The Parameter Store layer: kumo stores parameters and tags, but
//   - ignores PutParameter's Tags (AWS tags a parameter it creates with
//     them, in the same request);
//   - keeps a deleted parameter's tags (AWS deletes them with it);
//   - answers ListTagsForResource of a parameter that does not exist with
//     no tags (AWS: InvalidResourceId);
//   - accepts any value size and any name (AWS: a Standard parameter's value
//     is at most 4096 characters and an Advanced one's 8192, and a name may
//     not begin with "aws" or "ssm", case-insensitive, nor be more than 15
//     levels deep: ValidationException).
// The layer does those, from the Systems Manager API reference, by asking
// kumo itself (GetParameter, AddTagsToResource, ListTagsForResource,
// RemoveTagsFromResource) around the request.

const (
	ssmStandardMaxValue = 4096
	ssmAdvancedMaxValue = 8192
	ssmMaxLevels        = 15
)

type ssmPut struct {
	Name      string
	Value     string
	Tier      string
	Overwrite bool
	Tags      []struct{ Key, Value string }
}

// ssmCall makes one Parameter Store request to kumo, as the front's r made
// its own (same headers), and returns the status and body.
func (e *Emulator) ssmCall(r *http.Request, op string, in any) (int, []byte) {
	b, _ := json.Marshal(in)
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, e.kumo.URL+"/", bytes.NewReader(b))
	if err != nil {
		return 0, nil
	}
	for k, v := range r.Header {
		req.Header[k] = v
	}
	req.Header.Set("X-Amz-Target", "AmazonSSM."+op)
	req.Header.Set("Content-Length", fmt.Sprint(len(b)))
	req.ContentLength = int64(len(b))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func ssmError(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

// ssmRefuse answers a PutParameter that AWS would refuse, or returns false.
func ssmRefuse(w http.ResponseWriter, p ssmPut) bool {
	first := strings.ToLower(strings.TrimPrefix(p.Name, "/"))
	switch {
	case strings.HasPrefix(first, "aws") || strings.HasPrefix(first, "ssm"):
		ssmError(w, "ValidationException", fmt.Sprintf("Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). %s", p.Name))
		return true
	case strings.Count(strings.TrimPrefix(p.Name, "/"), "/")+1 > ssmMaxLevels:
		ssmError(w, "HierarchyLevelLimitExceededException", fmt.Sprintf("A hierarchy can have a maximum of %d levels.", ssmMaxLevels))
		return true
	case p.Tier != "Advanced" && p.Tier != "Intelligent-Tiering" && len(p.Value) > ssmStandardMaxValue:
		ssmError(w, "ValidationException", fmt.Sprintf("Standard tier parameters support a maximum parameter value of %d characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.", ssmStandardMaxValue))
		return true
	case len(p.Value) > ssmAdvancedMaxValue:
		ssmError(w, "ValidationException", fmt.Sprintf("Advanced tier parameters support a maximum parameter value of %d characters.", ssmAdvancedMaxValue))
		return true
	}
	return false
}

// ssmBefore handles what must happen before a Parameter Store request is
// forwarded; it returns true when it answered.
func (e *Emulator) ssmBefore(w http.ResponseWriter, r *http.Request, action string, body []byte) bool {
	switch action {
	case "ssm:PutParameter":
		var p ssmPut
		if json.Unmarshal(body, &p) == nil && ssmRefuse(w, p) {
			return true
		}
	case "ssm:ListTagsForResource", "ssm:AddTagsToResource", "ssm:RemoveTagsFromResource":
		var in struct{ ResourceType, ResourceId string }
		if json.Unmarshal(body, &in) != nil || in.ResourceType != "Parameter" {
			return false
		}
		if code, _ := e.ssmCall(r, "GetParameter", map[string]string{"Name": in.ResourceId}); code != http.StatusOK {
			ssmError(w, "InvalidResourceId", "The resource ID is not valid. Verify that the ID is correct and try again.")
			return true
		}
	}
	return false
}

// ssmAfter does what AWS does with a Parameter Store request that kumo
// answered with code: tag a parameter created with Tags, drop the tags of a
// parameter deleted.
func (e *Emulator) ssmAfter(r *http.Request, action string, body []byte, code int) {
	if code != http.StatusOK {
		return
	}
	switch action {
	case "ssm:PutParameter":
		var p ssmPut
		if json.Unmarshal(body, &p) != nil || len(p.Tags) == 0 || p.Overwrite {
			return
		}
		e.ssmCall(r, "AddTagsToResource", map[string]any{"ResourceType": "Parameter", "ResourceId": p.Name, "Tags": p.Tags})
	case "ssm:DeleteParameter":
		var in struct{ Name string }
		if json.Unmarshal(body, &in) != nil {
			return
		}
		_, out := e.ssmCall(r, "ListTagsForResource", map[string]string{"ResourceType": "Parameter", "ResourceId": in.Name})
		var tags struct{ TagList []struct{ Key string } }
		if json.Unmarshal(out, &tags) != nil || len(tags.TagList) == 0 {
			return
		}
		var keys []string
		for _, t := range tags.TagList {
			keys = append(keys, t.Key)
		}
		e.ssmCall(r, "RemoveTagsFromResource", map[string]any{"ResourceType": "Parameter", "ResourceId": in.Name, "TagKeys": keys})
	}
}
