using Miaoya.Jobs;

namespace Miaoya.Runner.Tests;

public sealed class SubmitterTests
{
    [Theory]
    [InlineData("recipe", "no-such-recipe", null, "miaoya_demo_face", null, "unknown recipe \"no-such-recipe\"")]
    [InlineData("template", "v2", "missing.png", "miaoya_demo_face", null, "does not exist")]
    [InlineData("lora", "v2", null, "", null, "")]
    [InlineData("face", "v3", null, "miaoya_demo_face", null, "face photo")]
    [InlineData("recipe_yaml", null, null, "miaoya_demo_face", "pipeline: v9\n", "pipeline")]
    public async Task A_bad_submission_names_its_field_and_leaves_nothing_behind(string field, string? recipe, string? template, string lora, string? yaml, string message)
    {
        await using var h = await RunnerHarness.StartAsync(boxes: 1);
        var submission = RunnerHarness.Submission() with
        {
            Recipe = recipe,
            RecipeYaml = yaml,
            Lora = lora,
            TemplatePath = template is null ? RunnerHarness.Astronaut : Path.Combine(h.Folder, template),
        };

        var error = await Assert.ThrowsAsync<JobSubmissionException>(() => h.Submitter.SubmitAsync(submission));
        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Empty(await h.Store.ListJobsAsync());
        Assert.False(Directory.Exists(h.Options.JobsDirectory) && Directory.EnumerateFileSystemEntries(h.Options.JobsDirectory).Any());
    }

    [Fact]
    public async Task A_submitted_job_owns_a_copy_of_its_inputs_and_lists_its_recipe_steps()
    {
        await using var h = await RunnerHarness.StartAsync(boxes: 1);
        var job = await h.Submitter.SubmitAsync(RunnerHarness.Submission("v2") with { Identity = "customer-17", Overrides = ["img2img.denoising_strength=0.3"] });

        Assert.Equal(JobState.Queued, job.State);
        Assert.Equal(Path.Combine(Path.GetFullPath(h.Options.JobsDirectory), job.Id), job.OutputFolder);
        Assert.True(File.Exists(Path.Combine(job.OutputFolder, "template.png")));
        Assert.True(File.Exists(Path.Combine(job.OutputFolder, "manifest.json")));
        Assert.Equal(["interrogate", "mask", "inpaint", "img2img"], job.Steps.Select(s => s.Name));
        var inputs = JobInputs.FromJson(job.InputsJson)!;
        Assert.Equal("customer-17", inputs.Identity);
        Assert.Equal("v2", inputs.Pipeline);
        Assert.Equal(["img2img.denoising_strength=0.3"], inputs.Overrides);
    }

    [Fact]
    public async Task Lora_is_optional_for_a_recipe_with_an_identity_section_and_every_face_photo_is_copied()
    {
        await using var h = await RunnerHarness.StartAsync(boxes: 1);

        var job = await h.Submitter.SubmitAsync(RunnerHarness.Submission("v4-faceid") with { Lora = null, FacePaths = [RunnerHarness.Astronaut, RunnerHarness.Astronaut] });

        Assert.Null(JobInputs.FromJson(job.InputsJson)!.Lora);
        Assert.True(File.Exists(Path.Combine(job.OutputFolder, "face.png")));
        Assert.True(File.Exists(Path.Combine(job.OutputFolder, "face-2.png")));
        Assert.Contains("identity", job.Steps.Select(s => s.Name));
    }

    [Fact]
    public async Task No_lora_for_a_recipe_without_an_identity_section_names_lora()
    {
        await using var h = await RunnerHarness.StartAsync(boxes: 1);

        var error = await Assert.ThrowsAsync<JobSubmissionException>(() => h.Submitter.CheckAsync(RunnerHarness.Submission("v1-face") with { Lora = null }));

        Assert.Equal("lora", error.Field);
        Assert.Contains("recipe v1-face takes the person from their face LoRA", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, "candidates", "1..16")]
    [InlineData(17, "candidates", "1..16")]
    [InlineData(2, "models", "face_recognition_sface_2021dec.onnx")]
    public async Task Candidates_are_checked_and_become_candidates_count(int count, string field, string message)
    {
        // 2 is a valid count: it reaches the recipe (candidates.count=2), whose scorer then needs its model.
        await using var h = await RunnerHarness.StartAsync(boxes: 1);

        var error = await Assert.ThrowsAsync<JobSubmissionException>(() => h.Submitter.CheckAsync(
            RunnerHarness.Submission("v4-faceid") with { Lora = null, FacePath = RunnerHarness.Astronaut, Candidates = count }));

        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Folders_the_store_does_not_know_are_removed_and_job_folders_kept()
    {
        await using var h = await RunnerHarness.StartAsync(boxes: 1);
        var job = await h.Submitter.SubmitAsync(RunnerHarness.Submission("v2"));
        var orphan = Path.Combine(h.Options.JobsDirectory, Guid.NewGuid().ToString());
        Directory.CreateDirectory(orphan);
        File.Copy(RunnerHarness.Astronaut, Path.Combine(orphan, "template.png"));
        var unrelated = Path.Combine(h.Options.JobsDirectory, "notes");
        Directory.CreateDirectory(unrelated);

        Assert.Empty(await h.Submitter.RemoveOrphanFoldersAsync(TimeSpan.FromHours(1)));
        var removed = await h.Submitter.RemoveOrphanFoldersAsync(TimeSpan.Zero);

        Assert.Equal([orphan], removed);
        Assert.False(Directory.Exists(orphan));
        Assert.True(Directory.Exists(job.OutputFolder));
        Assert.True(Directory.Exists(unrelated));
    }
}
