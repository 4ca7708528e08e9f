using System.Collections.Concurrent;
using System.Text.Json;
using ChatOpsInspector.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace ChatOpsInspector.Tests.Workflow;

/// <summary>Fake Inspector2 (REST) and SSM (JSON 1.1) on one loopback server, with switchable behaviour.</summary>
public sealed class FakeAws : IAsyncDisposable
{
    private int _filters;
    private int _commands;

    public FakeServer Server { get; private set; } = null!;

    /// <summary>Instances DescribeInstanceInformation reports as managed and online.</summary>
    public ConcurrentDictionary<string, string> ManagedInstances { get; } = new();

    /// <summary>instance id → SSM invocation status returned by ListCommandInvocations.</summary>
    public ConcurrentDictionary<string, string> InvocationStatus { get; } = new();

    /// <summary>When set, CreateFilter answers this AWS error code with HTTP 403.</summary>
    public string? CreateFilterError { get; set; }

    /// <summary>What ListCoverage answers (Inspector2 <c>coveredResources</c> items), in one page.</summary>
    public ConcurrentQueue<object> CoveredResources { get; } = new();

    /// <summary>When set, SendCommand answers this AWS error code with HTTP 400.</summary>
    public string? SendCommandError { get; set; }

    public static async Task<FakeAws> StartAsync()
    {
        var fake = new FakeAws();
        fake.Server = await FakeServer.StartAsync((app, _) =>
        {
            app.MapPost("/filters/create", (HttpContext http) =>
            {
                if (fake.CreateFilterError is { } code)
                {
                    http.Response.Headers["x-amzn-ErrorType"] = code;
                    http.Response.Headers["x-amzn-RequestId"] = "req-create-failed";
                    return Results.Json(new { message = "User is not authorized to perform inspector2:CreateFilter" }, statusCode: 403);
                }
                http.Response.Headers["x-amzn-RequestId"] = "req-create-" + Interlocked.Increment(ref fake._filters);
                return Results.Json(new { arn = $"arn:aws:inspector2:eu-west-1:123456789012:owner/123456789012/filter/f{fake._filters}" });
            });
            app.MapPost("/coverage/list", (HttpContext http) =>
            {
                http.Response.Headers["x-amzn-RequestId"] = "req-coverage";
                return Results.Json(new { coveredResources = fake.CoveredResources.ToArray() });
            });
            app.MapPost("/filters/delete", async (HttpContext http) =>
            {
                using var doc = await JsonDocument.ParseAsync(http.Request.Body);
                http.Response.Headers["x-amzn-RequestId"] = "req-delete";
                return Results.Json(new { arn = doc.RootElement.GetProperty("arn").GetString() });
            });
            app.MapPost("/", async (HttpContext http) =>
            {
                var target = http.Request.Headers["X-Amz-Target"].ToString();
                using var doc = await JsonDocument.ParseAsync(http.Request.Body);
                http.Response.Headers["x-amzn-RequestId"] = "req-" + target;
                switch (target)
                {
                    case "AmazonSSM.DescribeInstanceInformation":
                        var wanted = doc.RootElement.TryGetProperty("Filters", out var filters)
                            ? filters.EnumerateArray().SelectMany(f => f.GetProperty("Values").EnumerateArray().Select(v => v.GetString()!)).ToHashSet()
                            : fake.ManagedInstances.Keys.ToHashSet();
                        var list = fake.ManagedInstances.Where(m => wanted.Contains(m.Key))
                            .Select(m => new Dictionary<string, object> { ["InstanceId"] = m.Key, ["PingStatus"] = m.Value, ["PlatformType"] = "Linux" });
                        return Json(new { InstanceInformationList = list });
                    case "AmazonSSM.SendCommand":
                        if (fake.SendCommandError is { } error)
                        {
                            return Json(new Dictionary<string, string> { ["__type"] = error, ["message"] = "Instances not in a valid state" }, 400);
                        }
                        return Json(new { Command = new { CommandId = "cmd-" + Interlocked.Increment(ref fake._commands), Status = "Pending" } });
                    case "AmazonSSM.ListCommandInvocations":
                        return Json(new
                        {
                            CommandInvocations = fake.InvocationStatus.Select(s => new { InstanceId = s.Key, Status = s.Value, CommandId = doc.RootElement.GetProperty("CommandId").GetString() }),
                        });
                    default:
                        return Json(new Dictionary<string, string> { ["__type"] = "UnknownOperationException" }, 400);
                }
            });
        });
        return fake;
    }

    private static IResult Json(object body, int status = 200) =>
        Results.Text(JsonSerializer.Serialize(body), "application/x-amz-json-1.1", statusCode: status);

    public IEnumerable<RecordedRequest> Ssm(string operation) =>
        Server.Requests.Where(r => r.Headers.TryGetValue("X-Amz-Target", out var t) && t == "AmazonSSM." + operation);

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
