package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/rolloutdev/terraform-provider-rollout/internal/arn"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/orchestrator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
)

var (
	_ resource.ResourceWithConfigure      = (*orchestratorResource)(nil)
	_ resource.ResourceWithImportState    = (*orchestratorResource)(nil)
	_ resource.ResourceWithValidateConfig = (*orchestratorResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*orchestratorResource)(nil)
)

// NewOrchestratorResource builds rollout_orchestrator.
func NewOrchestratorResource() resource.Resource { return &orchestratorResource{} }

type orchestratorResource struct{ client *awsclient.Client }

type orchestratorModel struct {
	ID              types.String `tfsdk:"id"`
	Name            types.String `tfsdk:"name"`
	FunctionRoleARN types.String `tfsdk:"function_role_arn"`
	StatesRoleARN   types.String `tfsdk:"states_role_arn"`
	Architecture    types.String `tfsdk:"architecture"`
	Code            types.Object `tfsdk:"code"`
	Timeout         types.String `tfsdk:"timeout"`
	MemorySize      types.Int64  `tfsdk:"memory_size"`
	ARN             types.String `tfsdk:"arn"`
	FunctionARN     types.String `tfsdk:"function_arn"`
	CodeSHA256      types.String `tfsdk:"code_sha256"`
	Definition      types.String `tfsdk:"definition"`
	JobVersion      types.Int64  `tfsdk:"job_version"`
}

type orchestratorCodeModel struct {
	File            types.String `tfsdk:"file"`
	S3Bucket        types.String `tfsdk:"s3_bucket"`
	S3Key           types.String `tfsdk:"s3_key"`
	S3ObjectVersion types.String `tfsdk:"s3_object_version"`
}

const (
	defaultOrchestratorTimeout = 60 * time.Second
	minOrchestratorTimeout     = 10 * time.Second
	maxOrchestratorTimeout     = 900 * time.Second
	defaultOrchestratorMemory  = 128
	orchestratorType           = "rollout_orchestrator"
)

var orchestratorNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

func (r *orchestratorResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_orchestrator"
}

func (r *orchestratorResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "The orchestrator of detached rollouts: a Lambda function (runtime `provided.al2023`) built from this provider's release, and the Step Functions state machine " +
			"(Standard) that calls it once per poll. A resource whose `rollout.execution.mode` is `detached` starts an execution of it and returns; the schedule, the gates and the " +
			"rollback run in AWS with the same engine as in an apply. See the guide *Detached rollouts* for the IAM roles (`rollout_orchestrator_policy` renders them), limits and cost.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The name.", PlanModifiers: keep},
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the function and of the state machine: 1 to 64 letters, digits, hyphens and underscores. Changing it replaces both.",
				Validators:          []validator.String{stringvalidator.RegexMatches(orchestratorNameRE, "must be 1 to 64 letters, digits, hyphens and underscores")},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"function_role_arn": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "The function's execution role: it reads and writes the subjects, reads the gates and invokes hooks (`rollout_orchestrator_policy.function_policy`).",
				Validators:          []validator.String{arnOf{arn.IAMRole}},
			},
			"states_role_arn": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "The state machine's role: it invokes the function (`rollout_orchestrator_policy.states_policy`).",
				Validators:          []validator.String{arnOf{arn.IAMRole}},
			},
			"architecture": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "`arm64` (the default, cheaper per millisecond) or `x86_64`: the architecture of the code in `code`.",
				Validators:          []validator.String{stringvalidator.OneOf("arm64", "x86_64")},
			},
			"code": schema.SingleNestedAttribute{
				Required: true,
				MarkdownDescription: "Where the function's code is: the release's `terraform-provider-rollout_VERSION_orchestrator_linux_ARCH.zip` (listed in the release's signed `SHA256SUMS`), " +
					"as a local `file` or an S3 object (`s3_bucket` and `s3_key`, and `s3_object_version` for a versioned bucket). Use the zip of the provider's own version: " +
					"an orchestrator refuses the jobs of a later `job_version` (it still runs those of the release before, so that runs in flight go on when it is upgraded).",
				Attributes: map[string]schema.Attribute{
					"file":              schema.StringAttribute{Optional: true, MarkdownDescription: "Path of the zip on the machine that runs Terraform."},
					"s3_bucket":         schema.StringAttribute{Optional: true, MarkdownDescription: "S3 bucket of the zip, in the provider's region."},
					"s3_key":            schema.StringAttribute{Optional: true, MarkdownDescription: "S3 key of the zip."},
					"s3_object_version": schema.StringAttribute{Optional: true, MarkdownDescription: "Version of the S3 object; change it to deploy a new zip under the same key."},
				},
			},
			"timeout": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("The longest one call may take (the function's timeout), from %s to %s. Default `%s`. A call reads the gates, invokes a hook or makes one write; a hook's run counts.",
					minOrchestratorTimeout, maxOrchestratorTimeout, pipeline.ShortDuration(defaultOrchestratorTimeout)),
				Validators: []validator.String{goDuration{minOrchestratorTimeout, maxOrchestratorTimeout}},
			},
			"memory_size": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: fmt.Sprintf("The function's memory in MB, 128 to 10240. Default %d.", defaultOrchestratorMemory),
				Validators:          []validator.Int64{int64validator.Between(128, 10240)},
			},
			"arn":          schema.StringAttribute{Computed: true, MarkdownDescription: "ARN of the state machine: the value of `rollout.execution.orchestrator`.", PlanModifiers: keep},
			"function_arn": schema.StringAttribute{Computed: true, MarkdownDescription: "ARN of the function.", PlanModifiers: keep},
			"code_sha256":  schema.StringAttribute{Computed: true, MarkdownDescription: "Lambda's `CodeSha256` of the deployed code. A `file` whose digest differs is deployed in place."},
			"definition":   schema.StringAttribute{Computed: true, MarkdownDescription: "The state machine's definition (Amazon States Language), generated by the provider. A definition changed outside Terraform is put back in place."},
			"job_version":  schema.Int64Attribute{Computed: true, MarkdownDescription: "The version of the jobs this provider starts; the orchestrator's code must be of the same release."},
		},
	}
}

func (r *orchestratorResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

// codeOf reads the code block; the zip is read when it is a file.
func codeOf(ctx context.Context, o types.Object) (orchestratorCodeModel, bool) {
	var m orchestratorCodeModel
	if o.IsNull() || o.IsUnknown() {
		return m, false
	}
	if d := o.As(ctx, &m, basetypes.ObjectAsOptions{}); d.HasError() {
		return m, false
	}
	return m, true
}

func (r *orchestratorResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m orchestratorModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	code, ok := codeOf(ctx, m.Code)
	if !ok {
		return
	}
	at := path.Root("code")
	file, s3 := !code.File.IsNull(), !code.S3Bucket.IsNull() || !code.S3Key.IsNull() || !code.S3ObjectVersion.IsNull()
	switch {
	case file && s3:
		addError(&resp.Diagnostics, pathOf(at), "Conflicting Orchestrator Code", nil, "code names both a file and an S3 object.", "Set either code.file, or code.s3_bucket and code.s3_key.")
	case !file && !s3:
		addError(&resp.Diagnostics, pathOf(at), "Missing Orchestrator Code", nil, "code names neither a file nor an S3 object.",
			"Set code.file to the release's orchestrator zip for the architecture, or code.s3_bucket and code.s3_key to where you uploaded it.")
	case s3 && (code.S3Bucket.IsNull() || code.S3Key.IsNull()):
		addError(&resp.Diagnostics, pathOf(at.AtName("s3_key")), "Incomplete S3 Location", nil, "code.s3_bucket or code.s3_key is missing: an S3 object needs both.", "Set both.")
	case file && !code.File.IsUnknown() && code.File.ValueString() == "":
		addError(&resp.Diagnostics, pathOf(at.AtName("file")), "Empty Code Path", nil, "code.file is empty.", "Give the path of the orchestrator zip.")
	}
}

// ModifyPlan plans a new code_sha256 when the file's digest changed, and
// the definition the provider generates, so both show as in-place updates.
func (r *orchestratorResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan orchestratorModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var state *orchestratorModel
	if !req.State.Raw.IsNull() {
		state = &orchestratorModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}
	set := func(name string, v any) { resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(name), v)...) }
	if plan.Architecture.IsUnknown() || plan.Architecture.IsNull() {
		set("architecture", types.StringValue("arm64"))
	}
	set("job_version", types.Int64Value(orchestrator.JobVersion))
	code, _ := codeOf(ctx, plan.Code)
	sum := types.StringUnknown()
	if !code.File.IsNull() && !code.File.IsUnknown() {
		b, ok := readZip(code.File.ValueString(), "", "Check the path: it is read on the machine that runs Terraform, at plan and at apply.", &resp.Diagnostics)
		if !ok {
			return
		}
		sum = types.StringValue(awsclient.CodeSHA256(b))
	} else if state != nil {
		var had orchestratorCodeModel
		if hc, ok := codeOf(ctx, state.Code); ok {
			had = hc
		}
		if had.S3Bucket.Equal(code.S3Bucket) && had.S3Key.Equal(code.S3Key) && had.S3ObjectVersion.Equal(code.S3ObjectVersion) {
			sum = state.CodeSHA256
		}
	}
	set("code_sha256", sum)
	if state != nil && !state.FunctionARN.IsNull() {
		set("definition", types.StringValue(orchestrator.Definition(state.FunctionARN.ValueString())))
	} else {
		set("definition", types.StringUnknown())
	}
}

// spec is what the model asks AWS for; the zip is read from code.file.
func (r *orchestratorResource) spec(ctx context.Context, m orchestratorModel, diags *diag.Diagnostics) (awsclient.OrchestratorSpec, bool) {
	s := awsclient.OrchestratorSpec{Name: m.Name.ValueString(), FunctionRole: m.FunctionRoleARN.ValueString(), StatesRole: m.StatesRoleARN.ValueString(),
		Architecture: m.Architecture.ValueString(), Timeout: parseDuration(m.Timeout, defaultOrchestratorTimeout), MemoryMB: defaultOrchestratorMemory,
		Definition: orchestrator.Definition}
	if s.Architecture == "" {
		s.Architecture = "arm64"
	}
	if !m.MemorySize.IsNull() {
		s.MemoryMB = int32(m.MemorySize.ValueInt64())
	}
	code, _ := codeOf(ctx, m.Code)
	if f := code.File.ValueString(); f != "" {
		b, ok := readZip(f, " at apply", "Check the path and apply again: nothing was changed.", diags)
		if !ok {
			return s, false
		}
		s.Zip = b
	}
	s.S3Bucket, s.S3Key, s.S3V = code.S3Bucket.ValueString(), code.S3Key.ValueString(), code.S3ObjectVersion.ValueString()
	return s, true
}

// readZip reads the orchestrator's zip from code.file, at plan (when
// "") or at apply; next says what to do when it cannot be read.
func readZip(f, when, next string, diags *diag.Diagnostics) ([]byte, bool) {
	b, err := os.ReadFile(f)
	if err != nil {
		addError(diags, pathOf(path.Root("code").AtName("file")), "Cannot Read Orchestrator Code", err,
			fmt.Sprintf("code.file: the zip %s could not be read%s.", f, when), next)
		return nil, false
	}
	return b, true
}

func (r *orchestratorResource) record(m *orchestratorModel, o awsclient.Orchestrator) {
	m.ID = m.Name
	m.ARN, m.FunctionARN = types.StringValue(o.StateMachineARN), types.StringValue(o.FunctionARN)
	m.CodeSHA256, m.Definition = types.StringValue(o.CodeSHA256), types.StringValue(o.Definition)
	m.FunctionRoleARN, m.StatesRoleARN, m.Architecture = types.StringValue(o.FunctionRole), types.StringValue(o.StatesRole), types.StringValue(o.Architecture)
	m.JobVersion = types.Int64Value(orchestrator.JobVersion)
}

func (r *orchestratorResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan orchestratorModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	s, ok := r.spec(ctx, plan, &resp.Diagnostics)
	if !ok {
		return
	}
	o, err := r.client.CreateOrchestrator(ctx, s)
	if err != nil {
		addError(&resp.Diagnostics, nil, "Cannot Create Orchestrator", err, fmt.Sprintf("AWS refused the orchestrator %s; nothing was left half made.", s.Name),
			"Check that the roles exist and may be passed (iam:PassRole), that the credentials allow lambda:CreateFunction and states:CreateStateMachine, and that no function or state machine of that name exists.")
		return
	}
	r.record(&plan, o)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *orchestratorResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state orchestratorModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	o, err := r.client.ReadOrchestrator(ctx, state.Name.ValueString(), state.ARN.ValueString())
	if errors.Is(err, awsclient.ErrNotFound) {
		tflog.Warn(ctx, "the orchestrator's function or state machine no longer exists; removing it from state", map[string]any{"name": state.Name.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addError(&resp.Diagnostics, nil, "Cannot Read Orchestrator", err, fmt.Sprintf("Reading the orchestrator %s failed.", state.Name.ValueString()),
			"Check the credentials' lambda:GetFunction and states:DescribeStateMachine permissions and the endpoints.")
		return
	}
	r.record(&state, o)
	// A timeout or memory changed outside Terraform shows in the next plan.
	if parseDuration(state.Timeout, defaultOrchestratorTimeout) != o.Timeout {
		state.Timeout = types.StringValue(pipeline.ShortDuration(o.Timeout))
	}
	if mem := int64(o.MemoryMB); (state.MemorySize.IsNull() && mem != defaultOrchestratorMemory) || (!state.MemorySize.IsNull() && state.MemorySize.ValueInt64() != mem) {
		state.MemorySize = types.Int64Value(mem)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *orchestratorResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state orchestratorModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	s, ok := r.spec(ctx, plan, &resp.Diagnostics)
	if !ok {
		return
	}
	had, err := r.client.ReadOrchestrator(ctx, state.Name.ValueString(), state.ARN.ValueString())
	if err != nil {
		addError(&resp.Diagnostics, nil, "Cannot Read Orchestrator", err, "The orchestrator could not be read before the update.", "Run plan again.")
		return
	}
	codeChanged := plan.CodeSHA256.IsUnknown() || plan.CodeSHA256.ValueString() != had.CodeSHA256
	o, err := r.client.UpdateOrchestrator(ctx, had, s, codeChanged)
	if err != nil {
		addError(&resp.Diagnostics, nil, "Cannot Update Orchestrator", err, fmt.Sprintf("AWS refused a change of the orchestrator %s; what was changed before it stays.", s.Name),
			"Check the roles and the code, then apply again: running rollouts go on with the code and definition they started with.")
		return
	}
	r.record(&plan, o)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *orchestratorResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state orchestratorModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	if err := r.client.DeleteOrchestrator(ctx, state.Name.ValueString(), state.ARN.ValueString()); err != nil {
		addError(&resp.Diagnostics, nil, "Cannot Delete Orchestrator", err, fmt.Sprintf("Deleting the orchestrator %s failed.", state.Name.ValueString()),
			"Check the credentials' states:DeleteStateMachine and lambda:DeleteFunction permissions, then destroy again.")
	}
}

func (r *orchestratorResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if !orchestratorNameRE.MatchString(req.ID) {
		addError(&resp.Diagnostics, nil, "Invalid Import ID", nil, fmt.Sprintf("%q is not an orchestrator name.", req.ID),
			"Import with the name of the function and state machine (1 to 64 letters, digits, hyphens and underscores).")
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), req.ID)...)
}
