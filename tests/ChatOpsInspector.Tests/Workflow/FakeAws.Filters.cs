using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using ChatOpsInspector.Tests.Aws;
using Microsoft.AspNetCore.Http;

namespace ChatOpsInspector.Tests.Workflow;

/// <summary>
/// Inspector2 filters as the service keeps them: regional (the region a request is signed for) and per
/// account, listed in pages. Every CreateFilter, ListFilters and DeleteFilter body is checked against
/// botocore's Inspector2 model (<see cref="BotocoreModel.Inspector2"/>); a body that breaks it is answered
/// 400 ValidationException and kept in <see cref="ModelViolations"/>.
/// </summary>
public sealed partial class FakeAws
{
    private int _filters;
    private int _delayedCreates;

    public sealed record StoredFilter(string Arn, string Name, string Region, string Account, string Action, string Body);

    /// <summary>Filters that exist, by ARN.</summary>
    public ConcurrentDictionary<string, StoredFilter> InspectorFilters { get; } = new();

    /// <summary>Model violations of requests the bot sent (none in a correct run).</summary>
    public ConcurrentQueue<string> ModelViolations { get; } = new();

    /// <summary>When set, CreateFilter answers this AWS error code with HTTP 403.</summary>
    public string? CreateFilterError { get; set; }

    /// <summary>When set, DeleteFilter answers 404 ResourceNotFoundException (the filter is already gone).</summary>
    public bool DeleteFilterMissing { get; set; }

    /// <summary>The next this-many CreateFilter calls create the filter, then answer only after <see cref="CreateFilterDelay"/>.</summary>
    public int SlowCreates
    {
        get => Volatile.Read(ref _delayedCreates);
        set => Volatile.Write(ref _delayedCreates, value);
    }

    public TimeSpan CreateFilterDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>When it answers true, ListFilters answers as if no filter existed yet.</summary>
    public Func<bool>? HideFiltersFromList { get; set; }

    /// <summary>Small pages, so a client that reads only the first page misses filters.</summary>
    public int ListFiltersPageSize { get; set; } = 2;

    /// <summary>Names: 3 to 64 of letters, digits, dot, underscore and dash (FilterName's documentation in the model).</summary>
    private static readonly Regex FilterNamePattern = new("^[A-Za-z0-9._-]{3,64}$", RegexOptions.CultureInvariant);

    public IEnumerable<StoredFilter> FiltersIn(string region) => InspectorFilters.Values.Where(f => f.Region == region);

    private bool Conforms(JsonElement body, string shape, string operation)
    {
        var errors = BotocoreModel.Inspector2.Validate(body, shape);
        foreach (var error in errors)
        {
            ModelViolations.Enqueue($"{operation}: {error}");
        }
        return errors.Count == 0;
    }

    private async Task<IResult> CreateFilterAsync(HttpContext http)
    {
        if (CreateFilterError is { } code)
        {
            http.Response.Headers["x-amzn-ErrorType"] = code;
            http.Response.Headers["x-amzn-RequestId"] = "req-create-failed";
            return Results.Json(new { message = "User is not authorized to perform inspector2:CreateFilter" }, statusCode: 403);
        }
        var raw = await new StreamReader(http.Request.Body).ReadToEndAsync();
        using var doc = JsonDocument.Parse(raw);
        var name = doc.RootElement.TryGetProperty("name", out var n) ? n.GetString() ?? "" : "";
        if (!Conforms(doc.RootElement, "CreateFilterRequest", "CreateFilter") | !FilterNamePattern.IsMatch(name))
        {
            if (!FilterNamePattern.IsMatch(name))
            {
                ModelViolations.Enqueue($"CreateFilter: name '{name}' is not 3-64 of [A-Za-z0-9._-]");
            }
            return Validation("the request does not match CreateFilterRequest");
        }
        var region = (string)http.Items["region"]!;
        var account = (string)http.Items["account"]!;
        var number = Interlocked.Increment(ref _filters);
        var arn = $"arn:aws:inspector2:{region}:{account}:owner/{account}/filter/f{number}";
        InspectorFilters[arn] = new StoredFilter(arn, name, region, account, doc.RootElement.GetProperty("action").GetString()!, raw);
        if (Interlocked.Decrement(ref _delayedCreates) >= 0)
        {
            // Created, but the answer comes too late: the caller's timeout fires first.
            try
            {
                await Task.Delay(CreateFilterDelay, http.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }
        }
        else
        {
            Interlocked.Exchange(ref _delayedCreates, 0);
        }
        http.Response.Headers["x-amzn-RequestId"] = "req-create-" + number.ToString(CultureInfo.InvariantCulture);
        return Results.Json(new { arn });
    }

    private async Task<IResult> ListFiltersAsync(HttpContext http)
    {
        using var doc = await JsonDocument.ParseAsync(http.Request.Body);
        var request = doc.RootElement;
        if (!Conforms(request, "ListFiltersRequest", "ListFilters"))
        {
            return Validation("the request does not match ListFiltersRequest");
        }
        var region = (string)http.Items["region"]!;
        var account = (string)http.Items["account"]!;
        var action = request.TryGetProperty("action", out var a) ? a.GetString() : null;
        var all = HideFiltersFromList?.Invoke() == true ? [] : InspectorFilters.Values
            .Where(f => f.Region == region && f.Account == account && (action is null || f.Action == action))
            .OrderBy(f => f.Arn, StringComparer.Ordinal)
            .ToArray();
        var size = Math.Min(ListFiltersPageSize, request.TryGetProperty("maxResults", out var max) ? max.GetInt32() : 100);
        var start = request.TryGetProperty("nextToken", out var token) ? int.Parse(token.GetString()!, CultureInfo.InvariantCulture) : 0;
        var page = all.Skip(start).Take(size).Select(f =>
        {
            using var body = JsonDocument.Parse(f.Body);
            return new Dictionary<string, object?>
            {
                ["arn"] = f.Arn,
                ["ownerId"] = f.Account,
                ["name"] = f.Name,
                ["action"] = f.Action,
                ["criteria"] = body.RootElement.GetProperty("filterCriteria").Clone(),
                ["createdAt"] = 1764666000,
                ["updatedAt"] = 1764666000,
            };
        }).ToArray();
        http.Response.Headers["x-amzn-RequestId"] = "req-list-filters";
        var next = start + size < all.Length ? (start + size).ToString(CultureInfo.InvariantCulture) : null;
        return Results.Json(next is null ? new { filters = page } : (object)new { filters = page, nextToken = next });
    }

    private async Task<IResult> DeleteFilterAsync(HttpContext http)
    {
        using var doc = await JsonDocument.ParseAsync(http.Request.Body);
        if (!Conforms(doc.RootElement, "DeleteFilterRequest", "DeleteFilter"))
        {
            return Validation("the request does not match DeleteFilterRequest");
        }
        var arn = doc.RootElement.GetProperty("arn").GetString()!;
        if (DeleteFilterMissing)
        {
            http.Response.Headers["x-amzn-ErrorType"] = "ResourceNotFoundException";
            http.Response.Headers["x-amzn-RequestId"] = "req-delete-missing";
            return Results.Json(new { message = "The filter was not found" }, statusCode: 404);
        }
        if (InspectorFilters.TryGetValue(arn, out var stored) && stored.Region != (string)http.Items["region"]!)
        {
            ModelViolations.Enqueue($"DeleteFilter: {arn} signed for {http.Items["region"]}, not the filter's region");
        }
        InspectorFilters.TryRemove(arn, out _);
        http.Response.Headers["x-amzn-RequestId"] = "req-delete";
        return Results.Json(new { arn });
    }
}
