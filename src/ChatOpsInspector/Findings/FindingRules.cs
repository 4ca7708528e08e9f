using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ChatOpsInspector.Findings;

/// <summary>
/// What a finding must look like before anything of it is stored: the shapes of Inspector2's API model
/// (finding ARN, account id, EPSS 0–1), scores in their scales, times Inspector could have written, and
/// resource ids a runbook can act on. A value outside these is a forged or broken event, and storing it
/// would surface later as a frozen finding, an SLA overflow or a patch request that can never run.
/// </summary>
internal static partial class FindingRules
{
    /// <summary>Inspector2 launched in 2021; anything before its predecessor's era is not a real observation.</summary>
    public static readonly DateTimeOffset EarliestTime = new(2015, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Clock skew allowance: a finding from the future would make every later real update a "duplicate".</summary>
    public static readonly TimeSpan FutureAllowance = TimeSpan.FromDays(1);

    public const int MaxFindingArnLength = 100;

    // Inspector2 API model, shape FindingArn (min 1, max 100).
    [GeneratedRegex(@"^arn:(aws[a-zA-Z-]*)?:inspector2:[a-z]{2}(-gov)?-[a-z]+-\d{1}:\d{12}:finding/[a-f0-9]{32}$", RegexOptions.CultureInvariant)]
    public static partial Regex FindingArnPattern();

    // Inspector2 API model, shape AccountId (exactly 12 digits).
    [GeneratedRegex(@"^\d{12}$", RegexOptions.CultureInvariant)]
    public static partial Regex AccountIdPattern();

    // EC2 instance ids: "i-" and 8 hex digits (before 2016) or 17.
    [GeneratedRegex(@"^i-([0-9a-f]{8}|[0-9a-f]{17})$", RegexOptions.CultureInvariant)]
    public static partial Regex Ec2InstanceIdPattern();

    public static bool IsFindingArn(string arn) => arn.Length <= MaxFindingArnLength && FindingArnPattern().IsMatch(arn);

    public static bool IsAccountId(string account) => AccountIdPattern().IsMatch(account);

    public static bool IsEc2InstanceId(string id) => Ec2InstanceIdPattern().IsMatch(id);

    /// <summary>
    /// Checks a parsed finding and the raw <paramref name="detail"/> it came from (for the scores the
    /// finding does not keep), adding one error per problem with its JSON path.
    /// </summary>
    public static void Check(Finding finding, JsonElement detail, string path, DateTimeOffset now, List<string> errors)
    {
        if (!IsFindingArn(finding.FindingArn))
        {
            errors.Add($"{path}.findingArn '{Shorten(finding.FindingArn)}' is not an Inspector finding ARN (arn:aws:inspector2:REGION:ACCOUNT:finding/32 hex digits).");
        }
        if (!IsAccountId(finding.AwsAccountId))
        {
            errors.Add($"{path}.awsAccountId '{Shorten(finding.AwsAccountId)}' is not a 12-digit AWS account id.");
        }
        var latest = now + FutureAllowance;
        CheckTime(finding.UpdatedAt, "updatedAt");
        if (detail.TryGetProperty("firstObservedAt", out _))
        {
            CheckTime(finding.FirstObservedAt, "firstObservedAt");
        }
        if (detail.TryGetProperty("lastObservedAt", out _))
        {
            CheckTime(finding.LastObservedAt, "lastObservedAt");
        }
        if (finding.ExploitLastSeenAt is { } exploitAt)
        {
            CheckTime(exploitAt, "exploitabilityDetails.lastKnownExploitAt");
        }

        CheckScore(detail, ["inspectorScore"], 10);
        CheckScore(detail, ["epss", "score"], 1);
        CheckScore(detail, ["inspectorScoreDetails", "adjustedCvss", "score"], 10);
        if (detail.TryGetProperty("packageVulnerabilityDetails", out var package)
            && package.ValueKind == JsonValueKind.Object
            && package.TryGetProperty("cvss", out var cvss)
            && cvss.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var item in cvss.EnumerateArray())
            {
                CheckNumber(item, "baseScore", $"{path}.packageVulnerabilityDetails.cvss[{i++}].baseScore", 10);
            }
        }

        for (var r = 0; r < finding.Resources.Count; r++)
        {
            CheckResource(finding.Resources[r], $"{path}.resources[{r}]", errors);
        }

        void CheckTime(DateTimeOffset at, string name)
        {
            if (at < EarliestTime || at > latest)
            {
                errors.Add($"{path}.{name} {at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)} is outside {EarliestTime:yyyy-MM-dd} to one day from now.");
            }
        }

        void CheckScore(JsonElement element, string[] names, double max)
        {
            for (var n = 0; n < names.Length - 1; n++)
            {
                if (!element.TryGetProperty(names[n], out element) || element.ValueKind != JsonValueKind.Object)
                {
                    return;
                }
            }
            CheckNumber(element, names[^1], $"{path}.{string.Join('.', names)}", max);
        }

        void CheckNumber(JsonElement element, string name, string fieldPath, double max)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out var value))
            {
                return;
            }
            if (value.ValueKind == JsonValueKind.Null)
            {
                return;
            }
            if (!TryNumber(value, out var number))
            {
                errors.Add($"{fieldPath} must be a number.");
                return;
            }
            if (!double.IsFinite(number) || number < 0 || number > max)
            {
                errors.Add($"{fieldPath} {number.ToString(CultureInfo.InvariantCulture)} is outside 0 to {max.ToString(CultureInfo.InvariantCulture)}.");
            }
        }
    }

    private static bool TryNumber(JsonElement value, out double number)
    {
        number = 0;
        return value.ValueKind switch
        {
            JsonValueKind.Number => value.TryGetDouble(out number),
            JsonValueKind.String => double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out number),
            _ => false,
        };
    }

    private static void CheckResource(FindingResource resource, string path, List<string> errors)
    {
        if (resource.Id.Length > 2048 || resource.Id.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            errors.Add($"{path}.id must be at most 2048 characters without spaces or control characters.");
            return;
        }
        switch (resource.Type)
        {
            case ResourceTypes.Ec2Instance when !IsEc2InstanceId(resource.Id):
                // SSM SendCommand takes this id as a target: a malformed one fails every patch of its group.
                errors.Add($"{path}.id '{Shorten(resource.Id)}' is not an EC2 instance id (i- and 8 or 17 lower-case hex digits).");
                break;
            case ResourceTypes.EcrContainerImage or ResourceTypes.EcrRepository or ResourceTypes.LambdaFunction
                when !resource.Id.StartsWith("arn:", StringComparison.Ordinal):
                errors.Add($"{path}.id '{Shorten(resource.Id)}' is not an ARN, as Inspector reports {resource.Type} resources.");
                break;
        }
    }

    private static string Shorten(string text)
    {
        var clean = new string(text.Select(c => char.IsControl(c) ? '?' : c).Take(60).ToArray());
        return text.Length <= 60 ? clean : clean + "…";
    }
}
