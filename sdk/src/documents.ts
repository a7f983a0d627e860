// The client's GraphQL documents: constant strings, so no GraphQL library is needed to send them.
// The API answers these exact documents on its runtime path.

export const ONBOARDING_DOCUMENT = `query DoorstepOnboarding($user: OnboardingUserInput!, $locale: String, $placement: String) {
  onboarding(user: $user, locale: $locale, placement: $placement) {
    flow { key name } placement version variant locale
    welcome { title bodyHtml media { kind url alt } primaryCta { label url event } secondaryCta { label url event } }
    steps { id kind title bodyHtml cta { label url event } questionIds completionEvent skippable }
    questions { id prompt kind attribute required options { value label } min max }
    checklist { title items { id label completionEvent } }
    activation { event description }
    progress { started completedStepIds checkedItemIds completed dismissed }
  }
}`;

export const TRACK_DOCUMENT = `mutation DoorstepTrack($events: [TrackEventInput!]!) {
  track(events: $events) { accepted duplicates }
}`;

export const IDENTIFY_DOCUMENT = `mutation DoorstepIdentify($guestId: ID!, $userId: ID!, $userHash: String) {
  identify(guestId: $guestId, userId: $userId, userHash: $userHash) { merged userId }
}`;
