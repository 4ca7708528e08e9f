using System.Globalization;

namespace ChatOpsInspector.Findings;

/// <summary>
/// Inspector writes finding timestamps in EventBridge events as "Wed Sep 04 16:59:44.356 UTC 2024"
/// (Java's Date.toString), while the envelope and the API use ISO-8601. Both are accepted.
/// </summary>
internal static class InspectorTimestamps
{
    private static readonly string[] JavaFormats =
    [
        "ddd MMM dd HH:mm:ss.fff 'UTC' yyyy",
        "ddd MMM dd HH:mm:ss 'UTC' yyyy",
        "ddd MMM d HH:mm:ss.fff 'UTC' yyyy",
        "ddd MMM d HH:mm:ss 'UTC' yyyy",
    ];

    public static bool TryParse(string? text, out DateTimeOffset value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        if (DateTimeOffset.TryParseExact(text, JavaFormats, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value))
        {
            return true;
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value))
        {
            value = value.ToUniversalTime();
            return true;
        }
        return false;
    }
}
