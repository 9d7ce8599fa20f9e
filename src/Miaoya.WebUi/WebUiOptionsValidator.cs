using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Miaoya.WebUi;

/// <summary>Checks every field and the rules between fields, and reports all problems in one result.</summary>
internal sealed class WebUiOptionsValidator : IValidateOptions<WebUiOptions>
{
    public ValidateOptionsResult Validate(string? name, WebUiOptions options)
    {
        var problems = Problems(options);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    internal static List<string> Problems(WebUiOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        var problems = results.Select(r => $"{WebUiOptions.SectionName}:{string.Join(",", r.MemberNames)}: {r.ErrorMessage}").ToList();

        if (options.BaseUrl is { } url && (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)))
        {
            problems.Add($"{WebUiOptions.SectionName}:BaseUrl: '{url}' must be an absolute http:// or https:// URL.");
        }

        if (string.IsNullOrEmpty(options.Username) != string.IsNullOrEmpty(options.Password))
        {
            problems.Add($"{WebUiOptions.SectionName}:Username/Password: give both for --api-auth, or neither.");
        }

        if (options.Username?.Contains(':', StringComparison.Ordinal) == true)
        {
            problems.Add($"{WebUiOptions.SectionName}:Username: must not contain ':' (basic auth separates user and password with it).");
        }

        if (options.BreakerSamplingDuration < 2 * options.ControlAttemptTimeout)
        {
            problems.Add(
                $"{WebUiOptions.SectionName}:BreakerSamplingDuration: {options.BreakerSamplingDuration} must be at least twice ControlAttemptTimeout ({options.ControlAttemptTimeout}), or a slow box is never sampled.");
        }

        return problems;
    }
}
