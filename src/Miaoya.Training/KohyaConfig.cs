using System.Globalization;
using System.Text;

namespace Miaoya.Training;

/// <summary>Paths one parameter set trains with.</summary>
public sealed record KohyaPaths(string BaseModel, string ImageDir, string TriggerWord, string OutputDir, string OutputName, string SetFolder)
{
    public string ConfigFile => Path.Combine(SetFolder, "config.toml");

    public string DatasetConfigFile => Path.Combine(SetFolder, "dataset.toml");

    /// <summary>Where train_network.py saves the final LoRA: output_dir / output_name + ".safetensors" (train_util.get_last_ckpt_name).</summary>
    public string OutputFile => Path.Combine(OutputDir, OutputName + ".safetensors");
}

/// <summary>
/// Renders a parameter set into kohya-ss sd-scripts' files: <c>config.toml</c> for <c>train_network.py --config_file</c>
/// (read by library/train_util.py read_config_from_file: top-level keys and the keys of every table are merged into one
/// namespace of argparse option names) and <c>dataset.toml</c> for <c>--dataset_config</c> (library/config_util.py:
/// <c>[[datasets]]</c> with resolution/batch_size, <c>[[datasets.subsets]]</c> with image_dir, num_repeats,
/// caption_extension, class_tokens; with a dataset config, train_data_dir is ignored). Source read at kohya-ss/sd-scripts
/// 48d368f (2026-02-16).
/// </summary>
public static class KohyaConfig
{
    /// <summary>The default trainer command, run in the sd-scripts folder (--trainer-dir). Placeholders are shell-quoted.</summary>
    public const string DefaultCommand = "accelerate launch --num_cpu_threads_per_process 1 train_network.py --config_file {config}";

    /// <summary>config.toml for one set.</summary>
    public static string RenderConfig(ParameterSet set, KohyaPaths paths)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(paths);
        var toml = new TomlWriter()
            .Comment($"kohya-ss sd-scripts train_network.py --config_file, parameter set '{set.Name}' (written by miaoya lora train).")
            .Table("model")
            .Value("pretrained_model_name_or_path", paths.BaseModel)
            .Table("dataset")
            .Value("dataset_config", paths.DatasetConfigFile)
            .Value("resolution", string.Create(CultureInfo.InvariantCulture, $"{set.Resolution.Width},{set.Resolution.Height}"))
            .Table("output")
            .Value("output_dir", paths.OutputDir)
            .Value("output_name", paths.OutputName)
            .Table("training");
        foreach (var (key, value) in set.KohyaOptions)
        {
            toml.Value(key, value);
        }

        return toml.ToString();
    }

    /// <summary>dataset.toml for one set: the prepared images with this set's repeats and caption files.</summary>
    public static string RenderDatasetConfig(ParameterSet set, KohyaPaths paths)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(paths);
        var batch = set.KohyaOptions.TryGetValue("train_batch_size", out var b) ? (long)b : 1;
        return new TomlWriter()
            .Comment($"kohya-ss sd-scripts --dataset_config, parameter set '{set.Name}'.")
            .ArrayTable("datasets")
            .Value("resolution", new[] { (long)set.Resolution.Width, set.Resolution.Height })
            .Value("batch_size", batch)
            .Value("enable_bucket", false)
            .ArrayTable("datasets.subsets")
            .Value("image_dir", paths.ImageDir)
            .Value("num_repeats", (long)set.Repeats)
            .Value("caption_extension", CaptionExtension(set.Caption))
            .Value("class_tokens", paths.TriggerWord)
            .ToString();
    }

    /// <summary>.txt for full captions, .face.txt for face-focused ones (both written by dataset prepare).</summary>
    public static string CaptionExtension(CaptionStyle style) => style == CaptionStyle.Face ? ".face.txt" : ".txt";

    /// <summary>
    /// The command with <c>{config}</c>, <c>{dataset_config}</c>, <c>{output_dir}</c>, <c>{output_name}</c>, <c>{set}</c>
    /// replaced by single-quoted values (POSIX sh).
    /// </summary>
    public static string RenderCommand(string template, ParameterSet set, KohyaPaths paths)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(template);
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(paths);
        return template
            .Replace("{config}", ShellQuote(paths.ConfigFile), StringComparison.Ordinal)
            .Replace("{dataset_config}", ShellQuote(paths.DatasetConfigFile), StringComparison.Ordinal)
            .Replace("{output_dir}", ShellQuote(paths.OutputDir), StringComparison.Ordinal)
            .Replace("{output_name}", ShellQuote(paths.OutputName), StringComparison.Ordinal)
            .Replace("{set}", ShellQuote(set.Name), StringComparison.Ordinal);
    }

    /// <summary>'text' with embedded single quotes as '\''.</summary>
    public static string ShellQuote(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > 0 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-' or '=' or ':' or '+'))
        {
            return text;
        }

        var b = new StringBuilder("'");
        foreach (var c in text)
        {
            b.Append(c == '\'' ? "'\\''" : c.ToString());
        }

        return b.Append('\'').ToString();
    }
}
