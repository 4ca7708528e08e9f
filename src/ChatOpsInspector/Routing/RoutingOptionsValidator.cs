using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Routing;

/// <summary>Fails start-up on routing config that would silently misroute, naming the bad rule.</summary>
internal sealed class RoutingOptionsValidator : IValidateOptions<RoutingOptions>
{
    private static readonly HashSet<string> KnownResourceTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "AWS_EC2_INSTANCE", "AWS_ECR_CONTAINER_IMAGE", "AWS_ECR_REPOSITORY", "AWS_LAMBDA_FUNCTION",
        "CODE_REPOSITORY", "AZURE_VIRTUAL_MACHINE",
    };

    public ValidateOptionsResult Validate(string? name, RoutingOptions options)
    {
        var errors = new List<string>();
        for (var i = 0; i < options.Rules.Count; i++)
        {
            var rule = options.Rules[i];
            var label = rule.Name is null ? $"Routing:Rules:{i}" : $"Routing:Rules:{i} ({rule.Name})";
            if (!rule.HasAnyCondition)
            {
                errors.Add($"{label} has no match condition; use Routing:Default for a catch-all.");
            }
            foreach (var type in rule.ResourceTypes.Where(t => !KnownResourceTypes.Contains(t)))
            {
                errors.Add($"{label} names unknown resource type '{type}'.");
            }
            foreach (var account in rule.AccountIds.Where(a => a.Length != 12 || !a.All(char.IsAsciiDigit)))
            {
                errors.Add($"{label} has account id '{account}', which is not 12 digits.");
            }
            ValidateTarget(rule.Target, $"{label}:Target", errors);
        }
        ValidateTarget(options.Default, "Routing:Default", errors);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateTarget(RouteTarget target, string label, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(target.Owner))
        {
            errors.Add($"{label} needs an Owner.");
        }
        else if (target.Owner.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            errors.Add($"{label} Owner '{target.Owner}' must be one word (it is typed as /vulns NAME).");
        }
        if (target.SlackChannel is { Length: > 0 } slack && !(slack[0] is 'C' or 'G' or 'D'))
        {
            errors.Add($"{label} SlackChannel '{slack}' is not a Slack channel id (C…, G…).");
        }
    }
}
