using System.Collections;
using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Miaoya.WebUi;

/// <summary>
/// Checks a configuration section against the options class it binds to, before anything binds it: every unknown key
/// and every value that does not convert to its property's type is reported, all at once, naming the key and the
/// value (<c>WebUi:ControlRetries: 'abc' is not a whole number</c>). The binder itself stops at the first bad value with
/// an exception, and ignores unknown keys, so a typo in an environment variable would change nothing without a word.
/// </summary>
public static class ConfigurationCheck
{
    /// <summary>The problems of <paramref name="section"/> as an instance of <paramref name="type"/>; empty when it binds cleanly.</summary>
    public static IReadOnlyList<string> Problems(IConfigurationSection section, Type type)
    {
        ArgumentNullException.ThrowIfNull(section);
        ArgumentNullException.ThrowIfNull(type);
        var problems = new List<string>();
        Walk(section, type, problems);
        return problems;
    }

    /// <summary>
    /// The <see cref="WebUiOptions"/> section (<c>WebUi</c>) of <paramref name="configuration"/>: keys and values, then, when
    /// they all convert, the options' own rules (ranges, both or neither of user and password, ...).
    /// </summary>
    public static IReadOnlyList<string> WebUiProblems(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(WebUiOptions.SectionName);
        var problems = Problems(section, typeof(WebUiOptions));
        if (problems.Count > 0 || !section.GetChildren().Any())
        {
            return problems;
        }

        var options = new WebUiOptions();
        section.Bind(options);
        return WebUiOptionsValidator.Problems(options);
    }

    private static void Walk(IConfigurationSection section, Type type, List<string> problems)
    {
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0).ToArray();
        foreach (var child in section.GetChildren())
        {
            var property = properties.FirstOrDefault(p => p.Name.Equals(child.Key, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                problems.Add($"{child.Path}: unknown setting; known: {string.Join(", ", properties.Select(p => p.Name))}.");
                continue;
            }

            Value(child, property.PropertyType, problems);
        }
    }

    private static void Value(IConfigurationSection section, Type type, List<string> problems)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (IsScalar(type))
        {
            if (section.Value is null)
            {
                problems.Add($"{section.Path}: expected {Describe(type)}, got a section.");
            }
            else if (!Converts(section.Value, type))
            {
                problems.Add($"{section.Path}: '{Limits.UserText.Quote(section.Value)}' is not {Describe(type)}.");
            }

            return;
        }

        if (ElementType(type) is { } element)
        {
            foreach (var item in section.GetChildren())
            {
                if (!int.TryParse(item.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    problems.Add($"{item.Path}: list items are numbered from 0 ({section.Path}:0, {section.Path}:1, ...).");
                    continue;
                }

                Value(item, element, problems);
            }

            return;
        }

        if (section.Value is not null)
        {
            problems.Add($"{section.Path}: expected a section of settings, got the value '{Limits.UserText.Quote(section.Value)}'.");
            return;
        }

        Walk(section, type, problems);
    }

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan) || type == typeof(Uri)
        || type == typeof(DateTimeOffset) || type == typeof(DateTime) || type == typeof(Guid);

    private static Type? ElementType(Type type) =>
        type == typeof(string) ? null
        : type.IsArray ? type.GetElementType()
        : type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0]
            ?? (typeof(IEnumerable).IsAssignableFrom(type) ? typeof(string) : null);

    private static bool Converts(string value, Type type)
    {
        if (type == typeof(string))
        {
            return true;
        }

        if (type == typeof(Uri))
        {
            return Uri.TryCreate(value, UriKind.RelativeOrAbsolute, out _);
        }

        try
        {
            return TypeDescriptor.GetConverter(type).ConvertFromInvariantString(value) is not null;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or NotSupportedException or OverflowException)
        {
            return false;
        }
    }

    private static string Describe(Type type) =>
        type == typeof(int) || type == typeof(long) ? "a whole number"
        : type == typeof(double) || type == typeof(float) || type == typeof(decimal) ? "a number"
        : type == typeof(bool) ? "true or false"
        : type == typeof(TimeSpan) ? "a duration such as 00:00:05 (hh:mm:ss)"
        : type == typeof(Uri) ? "a URL"
        : type.IsEnum ? $"one of {string.Join(", ", Enum.GetNames(type))}"
        : $"a {type.Name}";
}
