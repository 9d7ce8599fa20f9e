using SixLabors.ImageSharp;

namespace Miaoya.Faces.Tests;

public class SelectionTests
{
    [Fact]
    public void Select_DefaultLargest_IndexBySize()
    {
        var small = TestFaces.Upright(50, 50, 30, score: 0.99f);
        var big = TestFaces.Upright(200, 200, 90, score: 0.7f);
        var mid = TestFaces.Upright(400, 100, 60, score: 0.8f);
        DetectedFace[] faces = [small, big, mid];

        Assert.Same(big, FaceSelection.Select(faces, null, "a.png"));
        Assert.Same(mid, FaceSelection.Select(faces, 1, "a.png"));
        Assert.Same(small, FaceSelection.Select(faces, 2, "a.png"));
    }

    [Fact]
    public void Select_Errors()
    {
        DetectedFace[] one = [TestFaces.Upright(50, 50, 30)];
        Assert.Equal(
            "p.jpg: --face-index 1 asked for, but 1 face was found (0 = largest).",
            Assert.Throws<FaceSelectionException>(() => FaceSelection.Select(one, 1, "p.jpg")).Message);
        Assert.Equal(
            "p.jpg: --face-index -1 asked for, but 1 face was found (0 = largest).",
            Assert.Throws<FaceSelectionException>(() => FaceSelection.Select(one, -1, "p.jpg")).Message);
        Assert.StartsWith(
            "p.jpg: no face found",
            Assert.Throws<FaceSelectionException>(() => FaceSelection.Select([], 0, "p.jpg")).Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void SelectLeftToRight_CountsByTheBoxLeftEdge_NotBySize()
    {
        var right = TestFaces.Upright(400, 100, 90);
        var left = TestFaces.Upright(50, 50, 30);
        var middle = TestFaces.Upright(200, 200, 60);
        DetectedFace[] faces = [right, left, middle];

        Assert.Equal([left, middle, right], FaceSelection.OrderLeftToRight(faces));
        Assert.Same(left, FaceSelection.SelectLeftToRight(faces, 0, "t.png", "--person"));
        Assert.Same(right, FaceSelection.SelectLeftToRight(faces, 2, "t.png", "--person"));
    }

    [Fact]
    public void SelectLeftToRight_OutOfRange_NamesHowManyFacesAndWhereEachIs()
    {
        DetectedFace[] two = [TestFaces.Upright(300, 40, 50), TestFaces.Upright(60, 40, 50)];
        var message = Assert.Throws<FaceSelectionException>(() => FaceSelection.SelectLeftToRight(two, 2, "t.png", "--person")).Message;

        Assert.StartsWith("t.png: --person 2 asked for, but 2 faces were found, counted from 0 left to right: 0 at x ", message, StringComparison.Ordinal);
        Assert.Contains("; 1 at x ", message, StringComparison.Ordinal);
        Assert.StartsWith("t.png: no face found", Assert.Throws<FaceSelectionException>(() => FaceSelection.SelectLeftToRight([], 0, "t.png", "--person")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DetectedFace_NeedsSixLandmarks_SizeIsLongerSide()
    {
        Assert.Throws<ArgumentException>(() => new DetectedFace(new RectangleF(0, 0, 10, 10), [new PointF(1, 1)], 0.9f));
        var face = new DetectedFace(new RectangleF(0, 0, 10, 14), new PointF[6], 0.9f);
        Assert.Equal(14, face.Size);
    }
}
