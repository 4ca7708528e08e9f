using System.Net;
using System.Text.Json;
using ChatOpsInspector.Aws;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ChatOpsInspector.Tests.Aws;

/// <summary>The real AWS SDK SSM client against a fake SSM endpoint speaking the JSON 1.1 protocol.</summary>
public sealed class SsmRunbooksTests : IDisposable
{
    private const string JsonContentType = "application/x-amz-json-1.1";
    private const string CommandId = "0831e1a8-a1ac-4257-a1fd-c831bEXAMPLE";
    private static readonly string[] Instances = ["i-0abcdef1234567890", "i-1234567890abcdef0", "i-0fedcba9876543210"];

    private readonly List<IHost> hosts = [];

    static SsmRunbooksTests()
    {
        // Explicit endpoint, region and credentials already keep the SDK off the network; this makes
        // sure nothing falls back to the EC2 instance metadata service on a build machine either.
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
    }

    public void Dispose()
    {
        foreach (var host in hosts)
        {
            host.Dispose();
        }
    }

    [Fact]
    public async Task PatchCommandRunsTheConfiguredDocumentWithInstallAndRateControl()
    {
        await using var server = await FakeAwsServer.StartAsync((request, response) =>
            Ssm(response, request, "AmazonSSM.SendCommand", $$$"""{"Command":{"CommandId":"{{{CommandId}}}","DocumentName":"Custom-PatchBaseline","Status":"Pending","RequestedDateTime":1718330633.0}}""", "ssm-send-1"));
        var runbooks = RunbooksFor(server, new() { ["Remediation:PatchDocument"] = "Custom-PatchBaseline", ["Remediation:RebootOption"] = "NoReboot" });
        var comment = SsmRunbooks.PatchComment("CVE-2021-3744", "arn:aws:inspector2:us-east-1:012345678901:finding/00031f625ee77ac186869f906eb73366");

        var started = await runbooks.SendPatchCommandAsync(Instances[..2], comment, maxConcurrency: "1", maxErrors: "0");

        Assert.Equal(CommandId, started.CommandId);
        Assert.Equal("ssm-send-1", started.RequestId);
        Assert.Equal("Custom-PatchBaseline", started.DocumentName);
        var request = Assert.Single(server.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/", request.Path);
        Assert.Equal("AmazonSSM.SendCommand", request.Header("X-Amz-Target"));
        Assert.StartsWith(JsonContentType, request.Header("Content-Type"), StringComparison.Ordinal);
        var body = request.Json;
        Assert.Equal("Custom-PatchBaseline", body.GetProperty("DocumentName").GetString());
        Assert.Equal(Instances[..2], Strings(body.GetProperty("InstanceIds")));
        Assert.Equal(["Install"], Strings(body.GetProperty("Parameters").GetProperty("Operation")));
        Assert.Equal(["NoReboot"], Strings(body.GetProperty("Parameters").GetProperty("RebootOption")));
        Assert.Equal("1", body.GetProperty("MaxConcurrency").GetString());
        Assert.Equal("0", body.GetProperty("MaxErrors").GetString());
        Assert.Equal("ChatOpsInspector patch CVE-2021-3744 finding 00031f625ee77ac186869f906eb73366", body.GetProperty("Comment").GetString());
    }

    [Fact]
    public async Task PatchCommandFallsBackToConfiguredRebootAndRateControlDefaults()
    {
        await using var server = await FakeAwsServer.StartAsync((request, response) =>
            Ssm(response, request, "AmazonSSM.SendCommand", $$$"""{"Command":{"CommandId":"{{{CommandId}}}"}}""", "ssm-send-2"));
        var runbooks = RunbooksFor(server);

        await runbooks.SendPatchCommandAsync([Instances[0]], new string('x', 250));

        var body = Assert.Single(server.Requests).Json;
        Assert.Equal("AWS-RunPatchBaseline", body.GetProperty("DocumentName").GetString());
        Assert.Equal(["RebootIfNeeded"], Strings(body.GetProperty("Parameters").GetProperty("RebootOption")));
        Assert.Equal("10%", body.GetProperty("MaxConcurrency").GetString());
        Assert.Equal("10%", body.GetProperty("MaxErrors").GetString());
        Assert.Equal(SsmRunbooks.MaxCommentLength, body.GetProperty("Comment").GetString()!.Length);
    }

    [Fact]
    public async Task RequestsAreSigV4SignedForSsm()
    {
        await using var server = await FakeAwsServer.StartAsync((request, response) =>
            Ssm(response, request, "AmazonSSM.ListCommandInvocations", """{"CommandInvocations":[]}""", "ssm-sig"));
        var runbooks = RunbooksFor(server);

        await runbooks.GetCommandProgressAsync(CommandId);

        var credential = SigV4Verification.AssertValidSignature(Assert.Single(server.Requests), AwsTestHost.SecretKey);
        Assert.Equal("ssm", credential.Service);
        Assert.Equal(AwsTestHost.Region, credential.Region);
        Assert.Equal(AwsTestHost.AccessKey, credential.AccessKey);
    }

    [Fact]
    public async Task ManagedInstancesAreLookedUpByInstanceIdAndSplitIntoOnlineOfflineAndUnmanaged()
    {
        await using var server = await FakeAwsServer.StartAsync((request, response) =>
            Ssm(response, request, "AmazonSSM.DescribeInstanceInformation", $$$"""
                {"InstanceInformationList":[
                  {"InstanceId":"{{{Instances[0]}}}","PingStatus":"Online","PlatformType":"Linux","PlatformName":"Amazon Linux","AgentVersion":"3.3.40.0","LastPingDateTime":1718330633.5},
                  {"InstanceId":"{{{Instances[1]}}}","PingStatus":"ConnectionLost","PlatformType":"Windows"}]}
                """, "ssm-describe"));
        var runbooks = RunbooksFor(server);

        var result = await runbooks.DescribeManagedInstancesAsync(Instances);

        var filter = Assert.Single(Assert.Single(server.Requests).Json.GetProperty("Filters").EnumerateArray());
        Assert.Equal("InstanceIds", filter.GetProperty("Key").GetString());
        Assert.Equal(Instances, Strings(filter.GetProperty("Values")));
        Assert.Equal([Instances[0]], result.Online);
        Assert.Equal([Instances[1]], result.Offline);
        Assert.Equal([Instances[2]], result.NotManaged);
        Assert.Equal(["ssm-describe"], result.RequestIds);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_718_330_633_500), result.Managed[0].LastPingAt);
    }

    [Fact]
    public async Task CommandProgressFollowsNextTokenAndCountsEveryInstance()
    {
        await using var server = await FakeAwsServer.StartAsync((request, response) =>
        {
            var page = request.Json.TryGetProperty("NextToken", out var token) ? token.GetString() : null;
            return page is null
                ? Ssm(response, request, "AmazonSSM.ListCommandInvocations", Invocations("page-2", ("i-00000001", "Success"), ("i-00000002", "Success"), ("i-00000003", "Failed")), "ssm-p1")
                : Ssm(response, request, "AmazonSSM.ListCommandInvocations", Invocations(null, ("i-00000004", "Success"), ("i-00000005", "InProgress")), "ssm-p2");
        });
        var runbooks = RunbooksFor(server);

        var progress = await runbooks.GetCommandProgressAsync(CommandId);

        Assert.Equal(2, server.Requests.Count);
        Assert.All(server.Requests, r => Assert.Equal(CommandId, r.Json.GetProperty("CommandId").GetString()));
        Assert.Equal("page-2", server.Requests[1].Json.GetProperty("NextToken").GetString());
        Assert.Equal(5, progress.Total);
        Assert.Equal(3, progress.Succeeded);
        Assert.Equal(1, progress.Failed);
        Assert.Equal(1, progress.InProgress);
        Assert.False(progress.IsComplete);
        Assert.Equal("3/5 done, 1 failed", progress.Summary);
        Assert.Equal(RunbookStatus.Failed, progress.Instances.Single(i => i.InstanceId == "i-00000003").Status);
        Assert.Equal(["ssm-p1", "ssm-p2"], progress.RequestIds);
    }

    [Fact]
    public async Task ThrottledCallsAreRetriedAndThenSucceed()
    {
        await using var server = await FakeAwsServer.StartAsync((request, response) => request.Sequence == 1
            ? Ssm(response, request, "AmazonSSM.SendCommand", """{"__type":"ThrottlingException","message":"Rate exceeded"}""", "ssm-throttled", 400)
            : Ssm(response, request, "AmazonSSM.SendCommand", $$$"""{"Command":{"CommandId":"{{{CommandId}}}"}}""", "ssm-ok"));
        var runbooks = RunbooksFor(server);

        var started = await runbooks.SendPatchCommandAsync([Instances[0]], "patch");

        Assert.Equal(CommandId, started.CommandId);
        Assert.Equal("ssm-ok", started.RequestId);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task InvalidInstanceIdSurfacesAsATypedValidationErrorWithoutRetrying()
    {
        await using var server = await FakeAwsServer.StartAsync((request, response) =>
            Ssm(response, request, "AmazonSSM.SendCommand",
                $$$"""{"__type":"InvalidInstanceId","Message":"Instances [[{{{Instances[0]}}}]] not in a valid state for account 111122223333"}""",
                "ssm-invalid", 400));
        var runbooks = RunbooksFor(server);

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => runbooks.SendPatchCommandAsync([Instances[0]], "patch"));

        Assert.Single(server.Requests);
        Assert.Equal("InvalidInstanceId", error.ErrorCode);
        Assert.Equal(AwsErrorKind.Validation, error.Kind);
        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Equal("ssm-invalid", error.RequestId);
        Assert.Equal("ssm", error.Service);
        Assert.Equal("SendCommand", error.Operation);
    }

    [Fact]
    public async Task IsolationStartsTheConfiguredAutomationForTheInstance()
    {
        var token = Guid.Parse("8e2f9f5e-2d47-4d2b-9a51-3c0d5e6f7a81");
        await using var server = await FakeAwsServer.StartAsync((request, response) =>
            Ssm(response, request, "AmazonSSM.StartAutomationExecution", """{"AutomationExecutionId":"4105a4fc-f944-11e6-9d32-0123456789ab"}""", "ssm-iso"));
        var runbooks = RunbooksFor(server, new()
        {
            ["Remediation:IsolationDocument"] = "ChatOpsInspector-IsolateInstance",
            ["Remediation:Isolation:AutomationAssumeRoleArn"] = "arn:aws:iam::111122223333:role/Containment",
        });

        var started = await runbooks.StartIsolationAsync(Instances[0], token);

        Assert.Equal("4105a4fc-f944-11e6-9d32-0123456789ab", started.AutomationExecutionId);
        Assert.Equal("ssm-iso", started.RequestId);
        var body = Assert.Single(server.Requests).Json;
        Assert.Equal("ChatOpsInspector-IsolateInstance", body.GetProperty("DocumentName").GetString());
        Assert.Equal([Instances[0]], Strings(body.GetProperty("Parameters").GetProperty("InstanceId")));
        Assert.Equal(token.ToString("D"), body.GetProperty("ClientToken").GetString());
        Assert.Equal(["arn:aws:iam::111122223333:role/Containment"], Strings(body.GetProperty("Parameters").GetProperty("AutomationAssumeRole")));
        // A document of one's own gets no Action parameter: that is AWSSupport-ContainEC2Instance's.
        Assert.False(body.GetProperty("Parameters").TryGetProperty("Action", out _));
    }

    [Fact]
    public async Task IsolationIsRefusedWhenNoDocumentIsConfigured()
    {
        await using var server = await FakeAwsServer.StartAsync((_, response) => FakeAwsServer.Reply(response, 200, "{}", "unused", JsonContentType));
        var runbooks = RunbooksFor(server);

        await Assert.ThrowsAsync<InvalidOperationException>(() => runbooks.StartIsolationAsync(Instances[0]));

        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task MissingCredentialsFailAtCallTimeWithATypedException()
    {
        await using var server = await FakeAwsServer.StartAsync((_, response) => FakeAwsServer.Reply(response, 200, "{}", "unused", JsonContentType));
        using var host = AwsTestHost.Build(
            new Dictionary<string, string?> { ["Aws:Region"] = AwsTestHost.Region, ["Aws:Ssm:ServiceUrl"] = server.BaseUri.ToString() },
            services: s => s.AddSingleton(new AwsCredentialsProvider(
                _ => throw new Amazon.Runtime.AmazonClientException("Failed to resolve AWS credentials."),
                Microsoft.Extensions.Logging.Abstractions.NullLogger<AwsCredentialsProvider>.Instance)));
        await host.StartAsync();

        var runbooks = host.Services.GetRequiredService<IRunbookClient>();

        await Assert.ThrowsAsync<AwsCredentialsUnavailableException>(() => runbooks.DescribeManagedInstancesAsync([Instances[0]]));
        Assert.Empty(server.Requests);
        await host.StopAsync();
    }

    [Theory]
    [InlineData("RebootAlways", null, null)]
    [InlineData(null, "0", null)]
    [InlineData(null, null, "101%")]
    public async Task PatchCommandArgumentsSsmWouldRejectAreRefusedLocally(string? reboot, string? concurrency, string? errors)
    {
        await using var server = await FakeAwsServer.StartAsync((_, response) => FakeAwsServer.Reply(response, 200, "{}", "unused", JsonContentType));
        var runbooks = RunbooksFor(server);

        await Assert.ThrowsAsync<ArgumentException>(() => runbooks.SendPatchCommandAsync([Instances[0]], "patch", reboot, concurrency, errors));

        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task PatchCommandRefusesMoreInstancesThanOneCommandTakesAndMalformedIds()
    {
        await using var server = await FakeAwsServer.StartAsync((_, response) => FakeAwsServer.Reply(response, 200, "{}", "unused", JsonContentType));
        var runbooks = RunbooksFor(server);
        var tooMany = Enumerable.Range(0, 51).Select(i => $"i-{i:x17}").ToArray();

        await Assert.ThrowsAsync<ArgumentException>(() => runbooks.SendPatchCommandAsync(tooMany, "patch"));
        await Assert.ThrowsAsync<ArgumentException>(() => runbooks.SendPatchCommandAsync(["arn:aws:ec2:eu-west-1:1:instance/i-1"], "patch"));

        Assert.Empty(server.Requests);
    }

    [Theory]
    [InlineData("Pending", "Pending")]
    [InlineData("Delayed", "Pending")]
    [InlineData("InProgress", "InProgress")]
    [InlineData("Cancelling", "InProgress")]
    [InlineData("Success", "Success")]
    [InlineData("Failed", "Failed")]
    [InlineData("TimedOut", "TimedOut")]
    [InlineData("Cancelled", "Cancelled")]
    public void InvocationStatusesMapOntoRunbookStatuses(string ssmStatus, string expected) =>
        Assert.Equal(Enum.Parse<RunbookStatus>(expected), SsmRunbooks.MapStatus(ssmStatus));

    private IRunbookClient RunbooksFor(FakeAwsServer server, Dictionary<string, string?>? extra = null)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["Aws:Region"] = AwsTestHost.Region,
            ["Aws:Ssm:ServiceUrl"] = server.BaseUri.ToString(),
        };
        foreach (var (key, value) in extra ?? [])
        {
            configuration[key] = value;
        }

        var host = AwsTestHost.Build(configuration);
        hosts.Add(host);
        return host.Services.GetRequiredService<IRunbookClient>();
    }

    private static Task Ssm(HttpResponse response, RecordedRequest request, string expectedTarget, string json, string requestId, int status = 200)
    {
        if (request.Header("X-Amz-Target") != expectedTarget)
        {
            return FakeAwsServer.Reply(response, 400,
                $$$"""{"__type":"UnknownOperationException","message":"fake server expected {{{expectedTarget}}}"}""", requestId, JsonContentType);
        }

        return FakeAwsServer.Reply(response, status, json, requestId, JsonContentType);
    }

    private static string Invocations(string? nextToken, params (string Instance, string Status)[] invocations) =>
        JsonSerializer.Serialize(new
        {
            CommandInvocations = invocations.Select(i => new { CommandId, InstanceId = i.Instance, i.Status, StatusDetails = i.Status }),
            NextToken = nextToken,
        });

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString() ?? "")];
}
