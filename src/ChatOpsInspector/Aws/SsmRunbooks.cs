using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Amazon;
using Amazon.Runtime;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Aws;

/// <summary>Systems Manager runbooks the bot can start: patch (Run Command) and isolate (Automation).</summary>
internal interface IRunbookClient
{
    /// <summary>Which of these instances SSM manages, and which of those are online (DescribeInstanceInformation).</summary>
    /// <remarks>Every id is checked, in pages of <see cref="SsmRunbooks.DescribeBatchSize"/> filter values.</remarks>
    Task<ManagedInstances> DescribeManagedInstancesAsync(IReadOnlyCollection<string> instanceIds, AwsTarget? target = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs the patch document (<c>Remediation:PatchDocument</c>) with Operation=Install on up to 50 instances.
    /// Null arguments fall back to <c>Remediation:RebootOption</c>, <c>:MaxConcurrency</c>, <c>:MaxErrors</c>.
    /// </summary>
    Task<PatchCommandStarted> SendPatchCommandAsync(
        IReadOnlyCollection<string> instanceIds,
        string comment,
        string? rebootOption = null,
        string? maxConcurrency = null,
        string? maxErrors = null,
        AwsTarget? target = null,
        CancellationToken cancellationToken = default);

    /// <summary>Per-instance state of a command (ListCommandInvocations, all pages).</summary>
    Task<CommandProgress> GetCommandProgressAsync(string commandId, AwsTarget? target = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Starts the isolation automation (<c>Remediation:IsolationDocument</c>) for one instance. The same
    /// <paramref name="clientToken"/> makes a repeated request start nothing new.
    /// </summary>
    Task<IsolationStarted> StartIsolationAsync(string instanceId, Guid? clientToken = null, AwsTarget? target = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Starts the isolation runbook, or with <paramref name="release"/> the release runbook, for one
    /// instance: its configured parameters, the instance id and the <c>AutomationAssumeRole</c> for the
    /// instance's account.
    /// </summary>
    Task<IsolationStarted> StartContainmentAsync(string instanceId, bool release, Guid? clientToken = null, AwsTarget? target = null, CancellationToken cancellationToken = default);

    /// <summary>State of automation executions (DescribeAutomationExecutions filtered by ExecutionId, 10 ids a call, all pages).</summary>
    Task<IReadOnlyList<AutomationState>> GetAutomationStatesAsync(IReadOnlyCollection<string> executionIds, AwsTarget? target = null, CancellationToken cancellationToken = default);
}

/// <summary>One automation execution as SSM reports it.</summary>
internal sealed record AutomationState(string ExecutionId, RunbookStatus Status, string? RawStatus, string? FailureMessage)
{
    public bool IsFinished => Status is RunbookStatus.Success or RunbookStatus.Failed or RunbookStatus.TimedOut or RunbookStatus.Cancelled;
}

internal sealed record ManagedInstance(
    string InstanceId,
    string? PingStatus,
    string? PlatformType,
    string? PlatformName,
    string? AgentVersion,
    DateTimeOffset? LastPingAt)
{
    public bool IsOnline => PingStatus == "Online";
}

internal sealed record ManagedInstances(
    IReadOnlyList<ManagedInstance> Managed,
    IReadOnlyList<string> NotManaged,
    IReadOnlyList<string> RequestIds)
{
    /// <summary>Managed and reachable now: the instances a patch command can actually reach.</summary>
    public IReadOnlyList<string> Online => [.. Managed.Where(i => i.IsOnline).Select(i => i.InstanceId)];

    /// <summary>Known to SSM but not reachable (ConnectionLost, Inactive).</summary>
    public IReadOnlyList<string> Offline => [.. Managed.Where(i => !i.IsOnline).Select(i => i.InstanceId)];
}

internal sealed record PatchCommandStarted(
    string CommandId,
    string DocumentName,
    IReadOnlyList<string> InstanceIds,
    string Comment,
    string? RequestId);

internal enum RunbookStatus
{
    Pending,
    InProgress,
    Success,
    Failed,
    TimedOut,
    Cancelled,
}

internal sealed record InstanceCommandStatus(string InstanceId, RunbookStatus Status, string? StatusDetails)
{
    public bool IsFinished => Status is RunbookStatus.Success or RunbookStatus.Failed or RunbookStatus.TimedOut or RunbookStatus.Cancelled;
}

internal sealed record CommandProgress(
    string CommandId,
    IReadOnlyList<InstanceCommandStatus> Instances,
    IReadOnlyList<string> RequestIds)
{
    public int Total => Instances.Count;

    public int Succeeded => Count(RunbookStatus.Success);

    public int Failed => Count(RunbookStatus.Failed);

    public int TimedOut => Count(RunbookStatus.TimedOut);

    public int Cancelled => Count(RunbookStatus.Cancelled);

    public int Pending => Count(RunbookStatus.Pending);

    public int InProgress => Count(RunbookStatus.InProgress);

    /// <summary>True once every invocation reached a final state (SSM may list none right after SendCommand).</summary>
    public bool IsComplete => Total > 0 && Instances.All(i => i.IsFinished);

    /// <summary>Chat-ready line such as "3/5 done, 1 failed".</summary>
    public string Summary
    {
        get
        {
            var parts = new List<string> { $"{Succeeded}/{Total} done" };
            if (Failed > 0)
            {
                parts.Add($"{Failed} failed");
            }

            if (TimedOut > 0)
            {
                parts.Add($"{TimedOut} timed out");
            }

            if (Cancelled > 0)
            {
                parts.Add($"{Cancelled} cancelled");
            }

            return string.Join(", ", parts);
        }
    }

    private int Count(RunbookStatus status) => Instances.Count(i => i.Status == status);
}

internal sealed record IsolationStarted(string AutomationExecutionId, string DocumentName, string InstanceId, string? RequestId);

/// <summary>
/// <see cref="IRunbookClient"/> on the AWS SDK's SSM client. The SDK client is built on first use,
/// so the bot starts without AWS credentials; the SDK retries throttling and server errors itself.
/// </summary>
internal sealed partial class SsmRunbooks(
    IOptions<AwsOptions> awsOptions,
    IOptions<RemediationOptions> remediationOptions,
    AwsAccounts accounts,
    ILogger<SsmRunbooks> logger) : IRunbookClient, IDisposable
{
    public const string ServiceName = "ssm";
    public const int MaxCommentLength = 100;
    /// <summary>SendCommand's <c>InstanceIds</c> (shape InstanceIdList) holds at most 50 ids.</summary>
    public const int MaxInstancesPerCommand = 50;

    /// <summary>
    /// DescribeInstanceInformation filter values per request: the model allows 100
    /// (InstanceInformationFilterValueSet) but a page holds at most 50 (MaxResultsEC2Compatible), so 50
    /// ids usually answer in one page.
    /// </summary>
    public const int DescribeBatchSize = 50;

    /// <summary>DescribeAutomationExecutions: AutomationExecutionFilterValueList holds at most 10 values.</summary>
    public const int MaxAutomationFilterValues = 10;

    private const int SdkMaxErrorRetry = 3;

    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly ConcurrentDictionary<(string? AccountId, string Region), AmazonSimpleSystemsManagementClient> clients = new();

    /// <summary>A SendCommand comment (at most 100 characters) that names the finding it remediates.</summary>
    public static string PatchComment(string? vulnerabilityId, string findingArn)
    {
        var findingId = findingArn[(findingArn.LastIndexOf('/') + 1)..];
        var subject = string.IsNullOrWhiteSpace(vulnerabilityId) ? "finding" : vulnerabilityId;
        return LimitComment($"ChatOpsInspector patch {subject} finding {findingId}");
    }

    public async Task<ManagedInstances> DescribeManagedInstancesAsync(IReadOnlyCollection<string> instanceIds, AwsTarget? target = null, CancellationToken cancellationToken = default)
    {
        var ids = DistinctInstanceIds(instanceIds);
        var found = new Dictionary<string, ManagedInstance>(StringComparer.Ordinal);
        var requestIds = new List<string>();
        foreach (var batch in ids.Chunk(DescribeBatchSize))
        {
            string? nextToken = null;
            do
            {
                var request = new DescribeInstanceInformationRequest
                {
                    Filters = [new InstanceInformationStringFilter { Key = "InstanceIds", Values = [.. batch] }],
                    MaxResults = 50,
                    NextToken = nextToken,
                };
                var response = await CallAsync("DescribeInstanceInformation", target,
                    (ssm, ct) => ssm.DescribeInstanceInformationAsync(request, ct), cancellationToken);
                AddRequestId(requestIds, response);
                foreach (var info in response.InstanceInformationList ?? [])
                {
                    found[info.InstanceId] = new ManagedInstance(
                        info.InstanceId,
                        info.PingStatus?.Value,
                        info.PlatformType?.Value,
                        info.PlatformName,
                        info.AgentVersion,
                        AsUtc(info.LastPingDateTime));
                }

                nextToken = NextOrNull(response.NextToken, nextToken);
            }
            while (nextToken is not null);
        }

        return new ManagedInstances(
            [.. ids.Where(found.ContainsKey).Select(id => found[id])],
            [.. ids.Where(id => !found.ContainsKey(id))],
            requestIds);
    }

    public async Task<PatchCommandStarted> SendPatchCommandAsync(
        IReadOnlyCollection<string> instanceIds,
        string comment,
        string? rebootOption = null,
        string? maxConcurrency = null,
        string? maxErrors = null,
        AwsTarget? target = null,
        CancellationToken cancellationToken = default)
    {
        var settings = remediationOptions.Value;
        var ids = DistinctInstanceIds(instanceIds);
        if (ids.Count > MaxInstancesPerCommand)
        {
            throw new ArgumentException($"SendCommand takes at most {MaxInstancesPerCommand} instance ids; split the batch.", nameof(instanceIds));
        }

        var reboot = rebootOption ?? settings.RebootOption;
        if (!RemediationOptionsValidator.IsRebootOption(reboot))
        {
            throw new ArgumentException($"Unknown reboot option '{reboot}'.", nameof(rebootOption));
        }

        var concurrency = maxConcurrency ?? settings.MaxConcurrency;
        if (!RemediationOptionsValidator.IsMaxConcurrency(concurrency))
        {
            throw new ArgumentException($"'{concurrency}' is not an SSM MaxConcurrency value.", nameof(maxConcurrency));
        }

        var errors = maxErrors ?? settings.MaxErrors;
        if (!RemediationOptionsValidator.IsMaxErrors(errors))
        {
            throw new ArgumentException($"'{errors}' is not an SSM MaxErrors value.", nameof(maxErrors));
        }

        var request = new SendCommandRequest
        {
            DocumentName = settings.PatchDocument,
            InstanceIds = [.. ids],
            Comment = LimitComment(comment),
            Parameters = new Dictionary<string, List<string>>
            {
                ["Operation"] = ["Install"],
                ["RebootOption"] = [reboot],
            },
            MaxConcurrency = concurrency,
            MaxErrors = errors,
        };
        var response = await CallAsync("SendCommand", target, (ssm, ct) => ssm.SendCommandAsync(request, ct), cancellationToken);
        var requestId = response.ResponseMetadata?.RequestId;
        var commandId = response.Command?.CommandId;
        if (string.IsNullOrEmpty(commandId))
        {
            throw new AwsServiceException(ServiceName, "SendCommand", "InvalidResponse", "The response carries no command id.",
                response.HttpStatusCode, requestId, AwsErrorKind.Unavailable);
        }

        logger.PatchCommandSent(commandId, settings.PatchDocument, ids.Count, requestId);
        return new PatchCommandStarted(commandId, settings.PatchDocument, ids, request.Comment, requestId);
    }

    public async Task<CommandProgress> GetCommandProgressAsync(string commandId, AwsTarget? target = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(commandId);
        var instances = new Dictionary<string, InstanceCommandStatus>(StringComparer.Ordinal);
        var requestIds = new List<string>();
        string? nextToken = null;
        do
        {
            var request = new ListCommandInvocationsRequest { CommandId = commandId, MaxResults = 50, NextToken = nextToken };
            var response = await CallAsync("ListCommandInvocations", target,
                (ssm, ct) => ssm.ListCommandInvocationsAsync(request, ct), cancellationToken);
            AddRequestId(requestIds, response);
            foreach (var invocation in response.CommandInvocations ?? [])
            {
                instances[invocation.InstanceId] = new InstanceCommandStatus(
                    invocation.InstanceId, MapStatus(invocation.Status?.Value), invocation.StatusDetails);
            }

            nextToken = NextOrNull(response.NextToken, nextToken);
        }
        while (nextToken is not null);

        return new CommandProgress(commandId, [.. instances.Values], requestIds);
    }

    public Task<IsolationStarted> StartIsolationAsync(string instanceId, Guid? clientToken = null, AwsTarget? target = null, CancellationToken cancellationToken = default) =>
        StartContainmentAsync(instanceId, release: false, clientToken, target, cancellationToken);

    public async Task<IsolationStarted> StartContainmentAsync(string instanceId, bool release, Guid? clientToken = null, AwsTarget? target = null, CancellationToken cancellationToken = default)
    {
        var settings = remediationOptions.Value;
        if (!settings.IsolationEnabled)
        {
            throw new InvalidOperationException("Isolation is off: set Remediation:Isolation:Enabled or Remediation:IsolationDocument.");
        }

        var document = release
            ? settings.EffectiveReleaseDocument ?? throw new InvalidOperationException("No release runbook: set Remediation:Isolation:ReleaseDocument.")
            : settings.EffectiveIsolationDocument;
        var id = DistinctInstanceIds([instanceId])[0];
        var region = target?.Region ?? awsOptions.Value.ResolveRegion();
        var parameters = settings.IsolationParameters(release).ToDictionary(p => p.Key, p => new List<string> { p.Value }, StringComparer.Ordinal);
        parameters[settings.Isolation.InstanceIdParameter] = [id];
        if (settings.Isolation.RoleFor(target?.AccountId, region) is { } role)
        {
            parameters[IsolationOptions.AssumeRoleParameter] = [role];
        }
        else if (!string.IsNullOrWhiteSpace(settings.Isolation.AutomationAssumeRoleName))
        {
            throw new InvalidOperationException($"The account of {id} is not known, so Remediation:Isolation:AutomationAssumeRoleName cannot name its role; set AutomationAssumeRoleArn.");
        }

        var request = new StartAutomationExecutionRequest
        {
            DocumentName = document,
            Parameters = parameters,
            ClientToken = clientToken?.ToString("D"),
        };
        var response = await CallAsync("StartAutomationExecution", target,
            (ssm, ct) => ssm.StartAutomationExecutionAsync(request, ct), cancellationToken);
        var requestId = response.ResponseMetadata?.RequestId;
        var executionId = response.AutomationExecutionId;
        if (string.IsNullOrEmpty(executionId))
        {
            throw new AwsServiceException(ServiceName, "StartAutomationExecution", "InvalidResponse",
                "The response carries no automation execution id.", response.HttpStatusCode, requestId, AwsErrorKind.Unavailable);
        }

        logger.IsolationStarted(executionId, document, id, requestId);
        return new IsolationStarted(executionId, document, id, requestId);
    }

    public async Task<IReadOnlyList<AutomationState>> GetAutomationStatesAsync(IReadOnlyCollection<string> executionIds, AwsTarget? target = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(executionIds);
        var found = new Dictionary<string, AutomationState>(StringComparer.Ordinal);
        // AutomationExecutionFilterValueList holds at most 10 values (botocore ssm/2014-11-06).
        foreach (var chunk in executionIds.Distinct(StringComparer.Ordinal).Chunk(MaxAutomationFilterValues))
        {
            string? nextToken = null;
            do
            {
                var request = new DescribeAutomationExecutionsRequest
                {
                    Filters = [new AutomationExecutionFilter { Key = AutomationExecutionFilterKey.ExecutionId, Values = [.. chunk] }],
                    MaxResults = 50,
                    NextToken = nextToken,
                };
                var response = await CallAsync("DescribeAutomationExecutions", target,
                    (ssm, ct) => ssm.DescribeAutomationExecutionsAsync(request, ct), cancellationToken);
                foreach (var execution in response.AutomationExecutionMetadataList ?? [])
                {
                    var raw = execution.AutomationExecutionStatus?.Value;
                    found[execution.AutomationExecutionId] = new AutomationState(
                        execution.AutomationExecutionId, MapAutomationStatus(raw), raw, execution.FailureMessage);
                }

                nextToken = NextOrNull(response.NextToken, nextToken);
            }
            while (nextToken is not null);
        }

        return [.. found.Values];
    }

    public void Dispose()
    {
        foreach (var client in clients.Values)
        {
            client.Dispose();
        }

        gate.Dispose();
    }

    internal static string LimitComment(string comment)
    {
        var text = (comment ?? "").Trim();
        if (text.Length <= MaxCommentLength)
        {
            return text;
        }

        var cut = MaxCommentLength - 1;
        if (char.IsHighSurrogate(text[cut - 1]))
        {
            cut--;
        }

        return text[..cut] + "…";
    }

    internal static RunbookStatus MapStatus(string? status) => status switch
    {
        "Success" => RunbookStatus.Success,
        "Failed" => RunbookStatus.Failed,
        "TimedOut" => RunbookStatus.TimedOut,
        "Cancelled" => RunbookStatus.Cancelled,
        "InProgress" or "Cancelling" => RunbookStatus.InProgress,
        _ => RunbookStatus.Pending, // Pending, Delayed, and anything SSM adds later that has not finished.
    };

    /// <summary>AutomationExecutionStatus of botocore's SSM model, reduced to what a card shows.</summary>
    internal static RunbookStatus MapAutomationStatus(string? status) => status switch
    {
        "Success" or "CompletedWithSuccess" => RunbookStatus.Success,
        "Failed" or "CompletedWithFailure" or "Rejected" or "ChangeCalendarOverrideRejected" or "Exited" => RunbookStatus.Failed,
        "TimedOut" => RunbookStatus.TimedOut,
        "Cancelled" => RunbookStatus.Cancelled,
        "InProgress" or "Waiting" or "Cancelling" or "RunbookInProgress" => RunbookStatus.InProgress,
        _ => RunbookStatus.Pending, // Pending, PendingApproval, Approved, Scheduled, … and anything SSM adds later.
    };

    private static List<string> DistinctInstanceIds(IReadOnlyCollection<string> instanceIds)
    {
        ArgumentNullException.ThrowIfNull(instanceIds);
        var ids = instanceIds.Select(id => id?.Trim() ?? "").Distinct(StringComparer.Ordinal).ToList();
        if (ids.Count == 0)
        {
            throw new ArgumentException("At least one instance id is needed.", nameof(instanceIds));
        }

        var bad = ids.FirstOrDefault(id => !InstanceIdPattern().IsMatch(id));
        if (bad is not null)
        {
            throw new ArgumentException($"'{bad}' is not an EC2 (i-...) or managed (mi-...) instance id.", nameof(instanceIds));
        }

        return ids;
    }

    private static string? NextOrNull(string? next, string? previous)
    {
        if (string.IsNullOrEmpty(next))
        {
            return null;
        }

        return next == previous
            ? throw new InvalidOperationException("SSM returned the token it was given; stopping instead of looping forever.")
            : next;
    }

    private static void AddRequestId(List<string> requestIds, AmazonWebServiceResponse response)
    {
        if (response.ResponseMetadata?.RequestId is { Length: > 0 } id)
        {
            requestIds.Add(id);
        }
    }

    private static DateTimeOffset? AsUtc(DateTime? value) => value switch
    {
        null => null,
        { Kind: DateTimeKind.Local } local => new DateTimeOffset(local.ToUniversalTime(), TimeSpan.Zero),
        { } other => new DateTimeOffset(DateTime.SpecifyKind(other, DateTimeKind.Utc), TimeSpan.Zero),
    };

    private async Task<TResponse> CallAsync<TResponse>(
        string operation,
        AwsTarget? target,
        Func<IAmazonSimpleSystemsManagement, CancellationToken, Task<TResponse>> call,
        CancellationToken cancellationToken)
        where TResponse : AmazonWebServiceResponse
    {
        var ssm = await ClientAsync(target, cancellationToken);
        AwsServiceException failure;
        try
        {
            var response = await call(ssm, cancellationToken);
            logger.AwsCallSucceeded(ServiceName, operation, response.ResponseMetadata?.RequestId);
            return response;
        }
        catch (AmazonServiceException ex)
        {
            failure = new AwsServiceException(ServiceName, operation, ex.ErrorCode ?? "UnknownError",
                ServiceMessage(ex), ex.StatusCode == 0 ? null : ex.StatusCode, ex.RequestId, innerException: ex);
        }
        catch (AmazonClientException ex)
        {
            failure = new AwsServiceException(ServiceName, operation, "RequestFailed", ex.Message, null, null,
                AwsErrorKind.Unavailable, innerException: ex);
        }
        catch (HttpRequestException ex)
        {
            failure = new AwsServiceException(ServiceName, operation, "RequestFailed", ex.Message, null, null,
                AwsErrorKind.Unavailable, innerException: ex);
        }

        logger.AwsSdkCallFailed(ServiceName, operation, failure.ErrorCode, (int?)failure.StatusCode, failure.RequestId);
        throw failure;
    }

    // The SDK puts the service's own message in Message; keep it short enough for a chat reply.
    private static string? ServiceMessage(AmazonServiceException ex) =>
        ex.Message is { Length: > 500 } text ? text[..500] : ex.Message;

    private async Task<IAmazonSimpleSystemsManagement> ClientAsync(AwsTarget? target, CancellationToken cancellationToken)
    {
        var aws = awsOptions.Value;
        var region = target?.Region ?? aws.ResolveRegion();
        var key = (target?.AccountId, region);
        if (clients.TryGetValue(key, out var existing))
        {
            return existing;
        }

        await gate.WaitAsync(cancellationToken);
        try
        {
            if (clients.TryGetValue(key, out var raced))
            {
                return raced;
            }

            var resolved = await accounts.CredentialsForAsync(target?.AccountId, region, cancellationToken);
            var config = new AmazonSimpleSystemsManagementConfig
            {
                RetryMode = RequestRetryMode.Standard,
                MaxErrorRetry = SdkMaxErrorRetry,
                Timeout = TimeSpan.FromSeconds(30),
            };
            if (!string.IsNullOrWhiteSpace(aws.Ssm.ServiceUrl))
            {
                config.ServiceURL = aws.Ssm.ServiceUrl;
                config.AuthenticationRegion = region;
            }
            else
            {
                config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
            }

            var client = new AmazonSimpleSystemsManagementClient(resolved, config);
            clients[key] = client;
            return client;
        }
        finally
        {
            gate.Release();
        }
    }

    [GeneratedRegex(@"(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)")]
    private static partial Regex InstanceIdPattern();
}
