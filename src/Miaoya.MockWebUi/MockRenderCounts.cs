namespace Miaoya.MockWebUi;

/// <summary>
/// Generation-type calls (<c>txt2img</c>, <c>img2img</c>, <c>interrogate</c>, tagger, <c>detect</c>, <c>rembg</c>) at the
/// mock, from arrival at its queue until answered (see <see cref="MockWebUiServer.RenderCounts"/>); also served as
/// <c>GET /__mock/renders</c>.
/// </summary>
/// <param name="InFlight">Calls at the box now, rendering or waiting for their turn.</param>
/// <param name="MaxInFlight">The most calls at the box at once since the start or the last reset.</param>
/// <param name="Started">Calls that reached the box since the start or the last reset.</param>
/// <param name="OverlappingStarts">Of those, the calls that arrived while another was still at the box.</param>
public sealed record MockRenderCounts(int InFlight, int MaxInFlight, long Started, long OverlappingStarts);
